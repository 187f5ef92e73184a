/// The words `JSONEventGenerator` draws from: the repeating part of the events, like the fixed
/// enumerations and catalogues of a real system.
enum Vocabulary {
    /// Event sources.
    static let sources = ["web-frontend", "ios-app", "android-app", "partner-api"]
    /// Customer segments.
    static let segments = ["free", "pro", "team", "enterprise"]
    /// Locales.
    static let locales = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR", "es-ES"]
    /// Device classes.
    static let devices = ["desktop", "mobile", "tablet"]
    /// User agents (shortened, but the usual shape).
    static let userAgents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    ]
    /// User actions.
    static let actions = ["page_view", "click", "search", "add_to_cart", "login", "logout", "share", "scroll"]
    /// Site sections.
    static let sections = ["products", "category", "search", "cart", "checkout", "account", "help", "blog"]
    /// Page titles.
    static let titles = ["Product details", "Search results", "Your cart", "Checkout", "Order history", "Help center", "Home"]
    /// Referring sites.
    static let referrers = ["www.google.com/search", "news.example.org/articles", "mail.example.net/inbox", "t.example.social/post"]
    /// A/B experiments.
    static let experiments = ["checkout-v2", "new-search-ranking", "free-shipping-banner", "dark-mode", "one-click-buy"]
    /// SKU prefixes.
    static let skuPrefixes = ["SHOE", "BOOK", "TOY", "HOME", "ELEC", "GARD"]
    /// Product names.
    static let products = [
        "Trail running shoe", "Wireless earbuds", "Cast iron skillet", "Paperback novel", "LED desk lamp", "Garden hose 25m",
        "Building blocks set", "Coffee grinder", "USB-C charger 65W",
    ]
    /// Loyalty tiers.
    static let tiers = ["standard", "silver", "gold", "platinum"]
    /// Payment methods.
    static let paymentMethods = ["card", "paypal", "bank_transfer", "apple_pay", "invoice"]
    /// Cities.
    static let cities = ["Berlin", "Paris", "London", "Tokyo", "Sao Paulo", "Madrid", "Seattle", "Osaka"]
    /// Country codes.
    static let countries = ["DE", "FR", "GB", "JP", "BR", "ES", "US"]
    /// Coupon codes.
    static let coupons = ["WELCOME10", "SPRING25", "VIP-2026", "FREESHIP"]
    /// Telemetry metrics with their units.
    static let metrics: [(name: String, unit: String)] = [
        ("temperature", "celsius"), ("humidity", "percent"), ("pressure", "hPa"), ("voltage", "V"), ("current", "mA"),
        ("co2", "ppm"), ("vibration", "mm/s"),
    ]
    /// Device models.
    static let models = ["TH-200", "TH-210", "AirSense Pro", "PowerMeter 3", "VibeGuard X"]
    /// Site regions.
    static let regions = ["eu-central", "eu-west", "us-east", "ap-northeast"]
    /// Alert codes.
    static let alerts = ["THRESHOLD_EXCEEDED", "SENSOR_FAULT", "LOW_BATTERY", "CONNECTIVITY_LOST"]
}
