"""Pure cores of the contacts app: no Django imports, plain values in and out, ``today``/``now`` passed in."""
