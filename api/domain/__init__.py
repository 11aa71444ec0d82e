"""The rules of the product, with no Flask import."""
