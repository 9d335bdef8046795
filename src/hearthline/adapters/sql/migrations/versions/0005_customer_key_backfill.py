"""customer key of the interactions stored before 0004

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

Interactions stored before revision 0004 have no `customer_key`, so the screen-pop would not
show them as a customer's earlier contacts. This fills it in, the same way the store does for new
rows (domain.interactions.Customer.key: the id, else the phone, else the e-mail in lower case),
in batches so a large table is not read at once.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 1000


def _key(customer: dict) -> str | None:
    if customer.get("id"):
        return customer["id"]
    if customer.get("phone"):
        return customer["phone"]
    email = customer.get("email")
    return email.strip().lower() if email else None


def upgrade() -> None:
    conn = op.get_bind()
    interactions = sa.table("interactions", sa.column("id", sa.String), sa.column("seq", sa.Integer),
                            sa.column("customer", sa.JSON), sa.column("customer_key", sa.String))
    last = ""
    while True:
        rows = conn.execute(sa.select(interactions.c.id, interactions.c.customer)
                            .where(interactions.c.customer_key.is_(None) & (interactions.c.id > last))
                            .order_by(interactions.c.id).limit(BATCH)).all()
        if not rows:
            return
        updates = [{"row_id": r.id, "key": _key(r.customer or {})} for r in rows]
        updates = [u for u in updates if u["key"]]
        if updates:
            conn.execute(interactions.update().where(interactions.c.id == sa.bindparam("row_id"))
                         .values(customer_key=sa.bindparam("key")), updates)
        last = rows[-1].id


def downgrade() -> None:
    pass  # the column stays as 0004 made it
