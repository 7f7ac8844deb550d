/// How a source repository's name is kept under the destination namespace (DESIGN §2, "Naming at the target").
///
/// With destination `REG/NS`:
/// - `path` keeps the repository path without the host and without Docker Hub's `library/`:
///   `quay.io/keycloak/keycloak` → `REG/NS/keycloak/keycloak`, `nginx` → `REG/NS/nginx`.
/// - `flat` keeps the last path element, as the AKKO guide's re-tag loop does: `REG/NS/keycloak`.
/// - `scoped` keeps the host too, like `skopeo sync --scoped`: `REG/NS/quay.io/keycloak/keycloak`.
public enum NamingLayout: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case path
    case flat
    case scoped

    public var description: String { self.rawValue }
}
