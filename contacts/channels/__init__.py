"""Real channels behind the sender interface (contacts.senders): e-mail through Django's e-mail
backend, SMS through SMSC.ru or Twilio; their delivery callbacks, the customers' replies and the
unsubscribe link."""
