revision = "bad
  down_revision = (
