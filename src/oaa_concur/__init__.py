"""oaa-concur: SAP Concur identity discovery for Veza (OAA), with offline access reviews."""

__version__ = "0.1.0"
