"""The Bolt and Block Kit toolkit the features share: replies, modals, cards, App Home, admins."""
