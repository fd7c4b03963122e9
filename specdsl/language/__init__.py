"""Front ends: the lark grammar for text specs and YAML with positions."""
