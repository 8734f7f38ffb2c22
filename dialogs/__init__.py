"""What the user asked, the dialogs that answer, and the cards and texts (Danish and English)."""
