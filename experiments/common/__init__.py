"""Pieces that several figure scripts share (a figure script never imports another)."""
