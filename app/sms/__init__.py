"""SMS as a shared service: Twilio's signatures and keywords, the SMS outbox, quiet hours, delivery and receipts."""
