"""safety and hardening: alert baselines and ordering, crisis text when nothing was sent,
deactivation, invitations that do not reveal an email, audit trail closed to TRUNCATE

Revision ID: 5f2a9c1d7e34
Revises: 797dce575b00
Create Date: 2026-11-29 09:00:00

Running the service as a role that does not own audit_events is what makes its trail
append-only against the service itself: only a table's owner (or a superuser) may disable its
triggers. Create the tables as one role and run the service as another, for example:

    CREATE ROLE interval_owner LOGIN;      -- runs `interval db upgrade`
    CREATE ROLE interval_app LOGIN;        -- runs the service (DATABASE_URL)
    GRANT USAGE ON SCHEMA public TO interval_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO interval_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM interval_app;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO interval_app;

docs/decisions.md ("Audit") has the whole recipe; tests/api/test_security_fixes.py
(TestAuditTrail) shows that such a role can disable no trigger, and that TRUNCATE is refused
even where it is granted.
"""

import sqlalchemy as sa
from alembic import op

revision = "5f2a9c1d7e34"
down_revision = "797dce575b00"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_received_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("baseline_check_in_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("baseline_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("baseline_source", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_baseline_check_in_id_check_ins"),
            "check_ins",
            ["baseline_check_in_id"],
            ["id"],
        )
        batch_op.drop_constraint(op.f("ck_alerts_priority"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_alerts_priority"), "priority IN ('urgent', 'high', 'normal')"
        )
    op.execute(
        """
        UPDATE alerts SET last_received_at = (
            SELECT max(alert_occurrences.received_at) FROM alert_occurrences
            WHERE alert_occurrences.alert_id = alerts.id
        )
        """
    )
    op.execute("UPDATE alerts SET last_received_at = received_at WHERE last_received_at IS NULL")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column(
            "last_received_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crisis_message_not_sent", sa.Text(), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("uq_users_email"), type_="unique")
        batch_op.create_index("ix_users_email", ["email"], unique=False)
        batch_op.create_index(
            "uq_users_email_enrolled",
            ["email"],
            unique=True,
            sqlite_where=sa.text("password_hash IS NOT NULL"),
            postgresql_where=sa.text("password_hash IS NOT NULL"),
        )

    if op.get_bind().dialect.name == "postgresql":
        # Row triggers never see TRUNCATE; a statement trigger does.
        op.execute(
            """
            CREATE TRIGGER audit_events_no_truncate
            BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("uq_users_email_enrolled")
        batch_op.drop_index("ix_users_email")
        batch_op.create_unique_constraint(op.f("uq_users_email"), ["email"])
        batch_op.drop_column("deactivated_at")

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("crisis_message_not_sent")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_priority"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_alerts_priority"), "priority IN ('urgent', 'high')"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_alerts_baseline_check_in_id_check_ins"), type_="foreignkey"
        )
        batch_op.drop_column("baseline_source")
        batch_op.drop_column("baseline_total")
        batch_op.drop_column("baseline_check_in_id")
        batch_op.drop_column("last_received_at")
