"""What the family page shows of a case: the name it uses and the family liaison contact.

Three optional columns on ``cases``, set by coordinators on the case form:
``family_name`` (the child's first name or alias as the family page shows it;
empty means the first word of ``child_name``), ``liaison_name`` and
``liaison_phone`` (the family liaison officer the family may call). All three
are personal: their values go to the purgeable side of the audit log and the
case purge clears them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("family_name", sa.String(80)))
        batch.add_column(sa.Column("liaison_name", sa.String(120)))
        batch.add_column(sa.Column("liaison_phone", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("liaison_phone")
        batch.drop_column("liaison_name")
        batch.drop_column("family_name")
