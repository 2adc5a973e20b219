"""The simulator's own data tables: Spend role codes (concur-api.md §4.4), names, places."""

from __future__ import annotations

# Spend role codes as Concur lists them (concur-api.md §4.4, S7). Kept here, not shared with the
# client: the simulator is an independent stand-in. "G" roles are group-aware.
GROUP_AWARE_ROLES: tuple[str, ...] = (
    "EXP_ATTENDEE_ADMIN", "EXP_PCARD_ADMIN", "EXP_PROCESSOR_CR", "EXP_CONFIG_ADMIN_CLIENT",
    "STATEMENT_PROCESSOR", "STATEMENT_PROCESSOR_ADMIN", "SHD_EMPLOYEE_ADMIN",
    "SHD_EMPLOYEE_ADMIN_RO", "EXP_CASHADVANCE_ADMIN", "EXP_CARD_ADMIN", "EXP_CONFIG_ADMIN",
    "EXP_CONFIG_ADMIN_RO", "EXP_PROCESSOR", "EXP_PROCESSOR_AUDIT", "EXP_PROCESSOR_ADMIN",
    "EXP_PROXY_USER", "EXP_EMPLOYEE_ADMIN", "SHD_PASSWORD_ADMIN", "EXP_REIMBURSEMENT_APPROVER",
    "SHD_ROLE_ADMIN", "SHD_CONFIG_ADMIN", "SHD_CONFIG_ADMIN_RO", "REQ_PROXY_USER",
    "REQ_PROCESSOR", "REQ_PROCESSOR_ADMIN", "REQ_CONFIG_ADMIN", "INV_AP_USER", "INV_PROCESSOR",
    "INV_PROCESSOR_MANAGER", "INV_PROXY_USER", "INV_CONFIG_ADMIN", "INV_VENDOR_ADMIN",
    "INV_PURCH_RECEIVER",
)
GLOBAL_ROLES: tuple[str, ...] = (
    "SHD_APP_CENTER_ADMIN", "SHD_AUTHORIZED_APPROVER", "SHD_BUDGET_ADMIN", "SHD_BUDGET_APPROVER",
    "SHD_BUDGET_OWNER", "SHD_BUDGET_VIEWER", "STATEMENT_APPROVER", "STATEMENT_USER",
    "SHD_COMPANY_INFO_ADMIN", "SHD_DATA_RETENTION_ADMIN", "EXP_APPROVER", "EXP_RECEIPT_PROCESSOR",
    "EXP_FIND_ATTENDEES_USER", "EXP_EXTRACT_ADMIN", "SHD_PAYROLL_ADMIN",
    "EXP_REIMBURSEMENT_AUDITOR", "SHD_TAX_ADMIN", "SHD_WEB_SERVICES_ADMIN", "REQ_APPROVER",
    "REQ_EVENT_ADMIN", "INV_APPROVER", "INV_IMAGE_PROCESSOR", "INV_PMT_MANAGER",
    "INV_PURCH_REQ_APPROVER", "REPORTING_CONSUMER", "REPORTING_BUSINESS_AUTHOR",
    "REPORTING_PRO_AUTHOR", "REPORTING_CONFIG_ADMIN",
)
# Privileged administrators sprinkled over the tenant.
ADMIN_ROLES: tuple[str, ...] = (
    "SHD_ROLE_ADMIN", "EXP_CONFIG_ADMIN", "SHD_EMPLOYEE_ADMIN", "SHD_CONFIG_ADMIN",
    "INV_CONFIG_ADMIN", "SHD_WEB_SERVICES_ADMIN", "REQ_CONFIG_ADMIN", "SHD_PASSWORD_ADMIN",
)
# A code that is not (yet) in Concur's list: clients must treat role names as opaque strings.
UNKNOWN_ROLE = "EXP_FUTURE_ROLE"
# Role groups are hierarchy nodes written as list-item codes joined by "-" (concur-api.md §4.3).
ROLE_GROUPS: tuple[str, ...] = (
    "R&D-QA-Exp", "US-East-Exp", "US-West-Exp", "EU-North-Exp", "APJ-Exp", "US-East-Inv",
)

GIVEN_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "José", "Zoë", "Łukasz", "Søren", "Anaïs", "Björn", "Chloé", "François", "Jürgen", "Nuño",
    "Ana", "Priya", "Wei", "Yuki", "Olga", "Ahmed", "Fatima", "Kwame", "Ingrid", "Mateo",
)
FAMILY_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Lee",
    "Müller", "Ørsted", "Nguyễn", "Gonçalves", "Dvořák", "Kowalczyk", "Öztürk", "Håkansson",
    "O'Brien", "Van der Berg", "Schmidt", "Rossi", "Tanaka", "Kim", "Patel", "Singh", "Ivanova",
)
CJK_NAMES: tuple[tuple[str, str], ...] = (("太郎", "山田"), ("伟", "王"), ("민준", "김"))
DEPARTMENTS: tuple[str, ...] = (
    "Finance", "Engineering", "Sales", "Marketing", "Human Resources", "Operations", "Legal",
    "Research & Development", "Customer Success", "IT",
)
DIVISIONS: tuple[str, ...] = ("Americas", "EMEA", "APJ", "Corporate")
TITLES: tuple[str | None, ...] = (
    None, "Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Accountant",
    "Sales Representative", "Consultant", "VP",
)
# (country, state/province, currency, locale, timezone)
PLACES: tuple[tuple[str, str | None, str, str, str], ...] = (
    ("US", "WA", "USD", "en-US", "America/Los_Angeles"),
    ("US", "NY", "USD", "en-US", "America/New_York"),
    ("US", "TX", "USD", "en-US", "America/Chicago"),
    ("GB", None, "GBP", "en-GB", "Europe/London"),
    ("DE", "BY", "EUR", "de-DE", "Europe/Berlin"),
    ("FR", None, "EUR", "fr-FR", "Europe/Paris"),
    ("JP", None, "JPY", "ja-JP", "Asia/Tokyo"),
    ("IN", "KA", "INR", "en-IN", "Asia/Kolkata"),
)
