"""The PySide6 GUI. It calls backoffice services and never writes to the database itself."""
