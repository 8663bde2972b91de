"""Word lists for synthetic PII (names, streets, email domains)."""
from __future__ import annotations

import unicodedata

FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Ashley",
    "Donald", "Kimberly", "Steven", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kevin", "Carol",
    "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Jason", "Rebecca",
    "José", "María", "Zoë", "Chloé", "Renée", "Andrés", "Luis", "Sofía", "Wei", "Mei", "Hiroshi", "Yuki",
    "Aisha", "Omar", "Priya", "Arjun", "Fatima", "Mateo", "Isabella", "Noah", "Olivia", "Liam", "Ava",
)
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "O'Brien",
    "Núñez", "Müller", "Kowalski", "Chen", "Wang", "Patel", "Kim", "Tanaka", "Okafor", "Haddad", "Silva",
)
STREETS = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset",
    "Highland", "Ridge", "River", "Church", "Willow", "Chestnut", "Spring", "Franklin", "Lincoln",
    "Jefferson", "Madison", "Walnut", "Meadow", "Forest", "Mill", "Center", "Valley", "Harbor", "Garden",
)
SUFFIXES = ("St", "Ave", "Blvd", "Rd", "Ln", "Dr", "Ct", "Way", "Pl")
DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "inbox.example.org")


def ascii_word(word: str) -> str:
    """Lower-case ASCII letters of a name, for email local parts."""
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalpha())
