"""QR badges and door check-in: signed badge codes, badge PDFs, the scanner page and the check-in API."""
