"""The Concur client: HTTP, auth, pagination (how to fetch) and Identity/Spend (what to fetch)."""
