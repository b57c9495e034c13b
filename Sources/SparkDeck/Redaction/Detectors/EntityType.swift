/// The kinds of personal data SparkDeck detects; the placeholder is `<TYPE_N>`.
public enum EntityType: String, Sendable, CaseIterable, Codable {
    case email = "EMAIL"
    case phone = "PHONE"
    case creditCard = "CREDIT_CARD"
    case ssn = "SSN"
    case iban = "IBAN"
    case ipAddress = "IP_ADDRESS"
    case url = "URL"
    case macAddress = "MAC_ADDRESS"
    case cryptoAddress = "CRYPTO_ADDRESS"
    case dateOfBirth = "DATE_OF_BIRTH"
    case address = "ADDRESS"
    case zipCode = "ZIP_CODE"
    case organization = "ORGANIZATION"
    case person = "PERSON"
    case custom = "CUSTOM"

    /// Position in `allCases`, for tables indexed by type.
    var ordinal: Int {
        switch self {
        case .email: 0
        case .phone: 1
        case .creditCard: 2
        case .ssn: 3
        case .iban: 4
        case .ipAddress: 5
        case .url: 6
        case .macAddress: 7
        case .cryptoAddress: 8
        case .dateOfBirth: 9
        case .address: 10
        case .zipCode: 11
        case .organization: 12
        case .person: 13
        case .custom: 14
        }
    }

    /// When two findings overlap, the higher one wins (then the longer).
    var priority: Int {
        switch self {
        case .custom: 100
        case .email: 90
        case .url: 85
        case .cryptoAddress, .iban, .creditCard: 80
        case .macAddress, .ipAddress: 75
        case .ssn: 70
        case .phone: 65
        case .dateOfBirth: 68
        case .address: 55
        case .organization: 50
        case .zipCode: 66
        case .person: 40
        }
    }
}

/// Session counters are stored by type name (`{"PERSON": 2}`).
extension EntityType: CodingKeyRepresentable {}
