import Foundation

/// Number formatting shared by the table, the gate's messages and the plot.
public enum Format {
    /// MB/s with a precision that suits its size: 1234, 412.3, 9.87.
    public static func rate(_ x: Double) -> String {
        x >= 1000 ? String(format: "%.0f", x) : x >= 100 ? String(format: "%.1f", x) : String(format: "%.2f", x)
    }

    /// 512 MiB, 1.5 GiB, 64 KiB, 812 B.
    public static func bytes(_ n: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, unit) in units where n >= size {
            let value = Double(n) / Double(size)
            return value == value.rounded() ? "\(Int(value)) \(unit)" : String(format: "%.1f %@", value, unit)
        }
        return "\(n) B"
    }

    /// Decimal megabytes, as RSS is usually quoted: "87 MB".
    public static func megabytes(_ n: Int64) -> String { String(format: "%.0f MB", Double(n) / 1e6) }

    /// "−76.9 %", "+3.2 %".
    public static func signedPercent(_ x: Double) -> String {
        (x < 0 ? "−" : "+") + String(format: "%.1f %%", abs(x))
    }

    public static func ratio(_ x: Double) -> String { String(format: "%.2f×", x) }
}
