"""The society itself: its name, address, charity number, contact, and the bank details it is paid into."""
