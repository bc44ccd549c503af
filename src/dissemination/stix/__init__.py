"""STIX 2.1 interchange: export per reader, import with fail-closed mapping, filter a bundle.

python-stix2 is an optional extra (`pip install 'dissemination[stix]'`): the
modules here import it only inside the functions that need it, so importing
`dissemination` (or this package, or the profile loader that reads
`stix.profile`) never pays for it. See docs/stix.md for the mapping tables.

- `export`: `export_bundle(item, decision, policy=...)`, a bundle of what one
  reader may see;
- `profile`: the `stix:` section of a profile (TLP and ACS tables);
- `constants`: fixed ids (TLP 1.0 and 2.0, ACS 3.0, our extensions).
"""
