"""oaa-concur: SAP Concur identity discovery for Veza's Open Authorization API, and access reviews."""

__version__ = "0.1.0"
