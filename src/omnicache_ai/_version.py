# The next minor release after 0.3.0 (the published implementation this one upgrades from:
# docs/migration.md); ".dev0" until it is tagged. PEP 440, read by hatch for the wheel.
__version__ = "0.4.0.dev0"
