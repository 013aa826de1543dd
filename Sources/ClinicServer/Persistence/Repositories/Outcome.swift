import ClinicDomain

/// How a unit of work ends when a refusal must still be recorded: the transaction commits the
/// refusal's audit event, and the error is thrown only after, outside it.
enum Outcome<Value: Sendable>: Sendable {
    case done(Value)
    case refused(ClinicError)

    func get() throws -> Value {
        switch self {
        case let .done(value): return value
        case let .refused(error): throw error
        }
    }
}
