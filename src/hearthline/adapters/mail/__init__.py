"""E-mail adapters: parsing inbound mail, the inbound SMTP listener (aiosmtpd), IMAP fetching
(imaplib) and the outbound SMTP relay (aiosmtplib)."""
