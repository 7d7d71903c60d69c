"""What readers do with an account: register and sign in, comment, rate and tag records, keep reading
lists and export them as citations; and what the record pages gather of it across merged records."""
