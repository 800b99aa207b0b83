revision = "a-b:c@d+e"
down_revision = 12
branch_labels = [None, "x"]
depends_on = f"{revision}"
