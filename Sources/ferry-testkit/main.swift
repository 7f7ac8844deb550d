print("ferry-testkit")
