"""A short, readable name for a browser from its User-Agent header ("Firefox on Windows"), for the list
of a user's sessions. Only a reading to help a person recognise their own devices: a User-Agent is
whatever the client sends, so nothing is decided on it."""

# Checked in order: several browsers also name the engines they descend from ("Edg/… Chrome/… Safari/…").
_BROWSERS = (
    ("edg/", "Edge"),
    ("edge/", "Edge"),
    ("opr/", "Opera"),
    ("opera", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chrome"),
    ("chrome/", "Chrome"),
    ("chromium/", "Chromium"),
    ("safari/", "Safari"),
    ("msie ", "Internet Explorer"),
    ("trident/", "Internet Explorer"),
    ("curl/", "curl"),
    ("python-requests/", "Python requests"),
    ("python-httpx/", "Python httpx"),
)
_SYSTEMS = (
    ("iphone", "iPhone"),
    ("ipad", "iPad"),
    ("android", "Android"),
    ("windows", "Windows"),
    ("cros", "ChromeOS"),
    ("mac os x", "macOS"),
    ("macintosh", "macOS"),
    ("linux", "Linux"),
)
MAX_LENGTH = 100


def browser_summary(user_agent: str) -> str:
    """ "Firefox on Windows", "Safari on iPhone", "Chrome", or "Unknown browser"."""
    text = (user_agent or "").lower()
    browser = next((name for marker, name in _BROWSERS if marker in text), "")
    system = next((name for marker, name in _SYSTEMS if marker in text), "")
    if browser and system:
        return f"{browser} on {system}"[:MAX_LENGTH]
    if browser or system:
        return (browser or f"A browser on {system}")[:MAX_LENGTH]
    return "Unknown browser"
