// Taming
