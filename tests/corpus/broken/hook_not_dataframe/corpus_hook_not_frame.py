"""A hook that returns rows as a list of dicts instead of a DataFrame (a broken-input case)."""


def read_leads():
    return [{"Lead ID": "L1", "Created": "2024-01-02"}]
