"""Scripts that publish the validation page (docs/validation.md); not part of the package."""
