"""core schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('adjustment_reasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('requires_note', sa.Boolean(), nullable=False),
    sa.Column('max_percent', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment_reasons')),
    sa.UniqueConstraint('name', name=op.f('uq_adjustment_reasons_name'))
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('brand', sa.String(length=80), nullable=False),
    sa.Column('vendor', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('strain', sa.String(length=80), nullable=False),
    sa.Column('quantity_type', sa.String(length=24), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('price_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unit_cost', sa.BigInteger(), nullable=False),
    sa.Column('floor_par', sa.BigInteger(), nullable=False),
    sa.Column('unit_thc_mg', sa.BigInteger(), nullable=True),
    sa.Column('unit_cbd_mg', sa.BigInteger(), nullable=True),
    sa.Column('metrc_item_id', sa.Integer(), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('metrc_item_id', name=op.f('uq_items_metrc_item_id')),
    sa.UniqueConstraint('sku', name=op.f('uq_items_sku'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_brand'), ['brand'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_name'), ['name'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('metrc_name', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('name', name=op.f('uq_locations_name'))
    )
    op.create_table('metrc_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metrc_id', sa.Integer(), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=True),
    sa.Column('external_receipt_number', sa.String(length=40), nullable=True),
    sa.Column('sold_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('customer_type', sa.String(length=40), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_receipts')),
    sa.UniqueConstraint('metrc_id', name=op.f('uq_metrc_receipts_metrc_id'))
    )
    with op.batch_alter_table('metrc_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_metrc_receipts_business_date', ['business_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_metrc_receipts_external_receipt_number'), ['external_receipt_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_metrc_receipts_receipt_number'), ['receipt_number'], unique=False)

    op.create_table('pos_layout_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_layout_mappings')),
    sa.UniqueConstraint('name', name=op.f('uq_pos_layout_mappings_name')),
    sa.UniqueConstraint('signature', name=op.f('uq_pos_layout_mappings_signature'))
    )
    op.create_table('store_settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_store_settings'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=60), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('reason', sa.String(length=400), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('count_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pos_source', sa.String(length=200), nullable=True),
    sa.Column('metrc_source', sa.String(length=200), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('lines_counted', sa.Integer(), nullable=True),
    sa.Column('lines_matching', sa.Integer(), nullable=True),
    sa.Column('unit_variance', sa.BigInteger(), nullable=True),
    sa.Column('dollar_variance', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_count_sessions_started_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_count_sessions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_sessions'))
    )
    op.create_table('manifests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_number', sa.String(length=20), nullable=False),
    sa.Column('metrc_transfer_id', sa.Integer(), nullable=True),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('shipper_name', sa.String(length=160), nullable=False),
    sa.Column('shipper_license', sa.String(length=40), nullable=False),
    sa.Column('transporter_license', sa.String(length=40), nullable=True),
    sa.Column('driver_name', sa.String(length=120), nullable=True),
    sa.Column('vehicle', sa.String(length=120), nullable=True),
    sa.Column('estimated_arrival', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('receiving_location_id', sa.Integer(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['finished_by_id'], ['users.id'], name=op.f('fk_manifests_finished_by_id_users')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_manifests_imported_by_id_users')),
    sa.ForeignKeyConstraint(['receiving_location_id'], ['locations.id'], name=op.f('fk_manifests_receiving_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifests')),
    sa.UniqueConstraint('manifest_number', name=op.f('uq_manifests_manifest_number'))
    )
    op.create_table('metrc_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('endpoint', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('doc_type', sa.String(length=24), nullable=False),
    sa.Column('doc_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution_note', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_metrc_outbox_created_by_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_metrc_outbox_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_metrc_outbox_idempotency_key'))
    )
    with op.batch_alter_table('metrc_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_metrc_outbox_status_id', ['status', 'id'], unique=False)

    op.create_table('metrc_receipt_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['metrc_receipts.id'], name=op.f('fk_metrc_receipt_lines_receipt_id_metrc_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrc_receipt_lines'))
    )
    with op.batch_alter_table('metrc_receipt_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metrc_receipt_lines_receipt_id'), ['receipt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_metrc_receipt_lines_tag'), ['tag'], unique=False)

    op.create_table('packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('bin', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('packaged_date', sa.Date(), nullable=True),
    sa.Column('expiration_date', sa.Date(), nullable=True),
    sa.Column('lab_state', sa.String(length=24), nullable=False),
    sa.Column('thc_percent', sa.BigInteger(), nullable=True),
    sa.Column('cbd_percent', sa.BigInteger(), nullable=True),
    sa.Column('total_thc_percent', sa.BigInteger(), nullable=True),
    sa.Column('terpenes', sa.Text(), nullable=True),
    sa.Column('coa_reference', sa.String(length=120), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_from_manifest', sa.String(length=20), nullable=True),
    sa.Column('source_package_id', sa.Integer(), nullable=True),
    sa.Column('metrc_package_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_packages_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_packages_location_id_locations')),
    sa.ForeignKeyConstraint(['source_package_id'], ['packages.id'], name=op.f('fk_packages_source_package_id_packages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages')),
    sa.UniqueConstraint('metrc_package_id', name=op.f('uq_packages_metrc_package_id')),
    sa.UniqueConstraint('tag', name=op.f('uq_packages_tag'))
    )
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_packages_expiration_date'), ['expiration_date'], unique=False)
        batch_op.create_index('ix_packages_item_status', ['item_id', 'status'], unique=False)
        batch_op.create_index('ix_packages_location_status', ['location_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_packages_received_from_manifest'), ['received_from_manifest'], unique=False)

    op.create_table('pos_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=260), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('layout', sa.String(length=60), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_pos_imports_imported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_imports')),
    sa.UniqueConstraint('file_sha256', name=op.f('uq_pos_imports_file_sha256'))
    )
    op.create_table('sales_daily',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_sales_daily_item_id_items')),
    sa.PrimaryKeyConstraint('item_id', 'day', name=op.f('pk_sales_daily'))
    )
    op.create_table('transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moved_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_transfers_created_by_id_users')),
    sa.ForeignKeyConstraint(['from_location_id'], ['locations.id'], name=op.f('fk_transfers_from_location_id_locations')),
    sa.ForeignKeyConstraint(['moved_by_id'], ['users.id'], name=op.f('fk_transfers_moved_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_transfers_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_transfers_to_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfers_status'), ['status'], unique=False)

    op.create_table('adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('quantity_delta', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('before_quantity', sa.BigInteger(), nullable=False),
    sa.Column('after_quantity', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=80), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('adjusted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('count_session_id', sa.Integer(), nullable=True),
    sa.Column('unit_value', sa.BigInteger(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_adjustments_approved_by_id_users')),
    sa.ForeignKeyConstraint(['count_session_id'], ['count_sessions.id'], name=op.f('fk_adjustments_count_session_id_count_sessions')),
    sa.ForeignKeyConstraint(['outbox_id'], ['metrc_outbox.id'], name=op.f('fk_adjustments_outbox_id_metrc_outbox')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_adjustments_package_id_packages')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_adjustments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustments'))
    )
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustments_adjusted_at'), ['adjusted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustments_package_id'), ['package_id'], unique=False)

    op.create_table('count_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('in_scope', sa.Boolean(), nullable=False),
    sa.Column('supersedes_previous', sa.Boolean(), nullable=False),
    sa.Column('counted_by_id', sa.Integer(), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('workstation', sa.String(length=80), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.ForeignKeyConstraint(['counted_by_id'], ['users.id'], name=op.f('fk_count_entries_counted_by_id_users')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_count_entries_location_id_locations')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_count_entries_package_id_packages')),
    sa.ForeignKeyConstraint(['session_id'], ['count_sessions.id'], name=op.f('fk_count_entries_session_id_count_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_entries'))
    )
    with op.batch_alter_table('count_entries', schema=None) as batch_op:
        batch_op.create_index('ix_count_entries_session_tag', ['session_id', 'tag'], unique=False)

    op.create_table('count_expected',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('ledger_qty', sa.BigInteger(), nullable=True),
    sa.Column('pos_qty', sa.BigInteger(), nullable=True),
    sa.Column('metrc_qty', sa.BigInteger(), nullable=True),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_count_expected_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_count_expected_location_id_locations')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_count_expected_package_id_packages')),
    sa.ForeignKeyConstraint(['session_id'], ['count_sessions.id'], name=op.f('fk_count_expected_session_id_count_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_expected')),
    sa.UniqueConstraint('session_id', 'tag', name=op.f('uq_count_expected_session_id_tag'))
    )
    op.create_table('label_prints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=36), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('barcode_value', sa.String(length=40), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('lab_override_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_label_prints_item_id_items')),
    sa.ForeignKeyConstraint(['lab_override_by_id'], ['users.id'], name=op.f('fk_label_prints_lab_override_by_id_users')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_label_prints_package_id_packages')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_label_prints_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_prints'))
    )
    with op.batch_alter_table('label_prints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_prints_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_prints_job'), ['job'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_prints_package_id'), ['package_id'], unique=False)

    op.create_table('manifest_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('strain', sa.String(length=80), nullable=False),
    sa.Column('shipped_quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('wholesale_price', sa.BigInteger(), nullable=True),
    sa.Column('lab_state', sa.String(length=24), nullable=False),
    sa.Column('production_batch', sa.String(length=60), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('received_quantity', sa.BigInteger(), nullable=True),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scanned_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=80), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.Column('suggested_bin', sa.String(length=40), nullable=True),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_manifest_lines_decided_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_manifest_lines_item_id_items')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_manifest_lines_manifest_id_manifests')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_manifest_lines_package_id_packages')),
    sa.ForeignKeyConstraint(['scanned_by_id'], ['users.id'], name=op.f('fk_manifest_lines_scanned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_lines')),
    sa.UniqueConstraint('manifest_id', 'tag', name=op.f('uq_manifest_lines_manifest_id_tag'))
    )
    with op.batch_alter_table('manifest_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manifest_lines_tag'), ['tag'], unique=False)

    op.create_table('pos_sale_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=False),
    sa.Column('line_key', sa.String(length=40), nullable=False),
    sa.Column('sold_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=True),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('sku', sa.String(length=40), nullable=True),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('budtender', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['pos_imports.id'], name=op.f('fk_pos_sale_lines_import_id_pos_imports')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_pos_sale_lines_item_id_items')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_pos_sale_lines_package_id_packages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_sale_lines')),
    sa.UniqueConstraint('receipt_number', 'line_key', name=op.f('uq_pos_sale_lines_receipt_number_line_key'))
    )
    with op.batch_alter_table('pos_sale_lines', schema=None) as batch_op:
        batch_op.create_index('ix_pos_sale_lines_business_date', ['business_date'], unique=False)
        batch_op.create_index('ix_pos_sale_lines_item_date', ['item_id', 'business_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_pos_sale_lines_tag'), ['tag'], unique=False)

    op.create_table('reconciliation_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('receipt_number', sa.String(length=40), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('pos_quantity', sa.BigInteger(), nullable=True),
    sa.Column('metrc_quantity', sa.BigInteger(), nullable=True),
    sa.Column('pos_amount', sa.BigInteger(), nullable=True),
    sa.Column('metrc_amount', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.String(length=400), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('resolution_action', sa.String(length=40), nullable=True),
    sa.Column('resolution_note', sa.String(length=400), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['metrc_outbox.id'], name=op.f('fk_reconciliation_findings_outbox_id_metrc_outbox')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_reconciliation_findings_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_findings')),
    sa.UniqueConstraint('business_date', 'kind', 'receipt_number', 'tag', name=op.f('uq_reconciliation_findings_business_date_kind_receipt_number_tag'))
    )
    with op.batch_alter_table('reconciliation_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_findings_business_date'), ['business_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_findings_status'), ['status'], unique=False)

    op.create_table('stock_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('quantity_delta', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('from_location_id', sa.Integer(), nullable=True),
    sa.Column('to_location_id', sa.Integer(), nullable=True),
    sa.Column('doc_type', sa.String(length=24), nullable=False),
    sa.Column('doc_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=True),
    sa.ForeignKeyConstraint(['from_location_id'], ['locations.id'], name=op.f('fk_stock_ledger_from_location_id_locations')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_stock_ledger_package_id_packages')),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_stock_ledger_to_location_id_locations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_stock_ledger_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_ledger'))
    )
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_stock_ledger_document', ['doc_type', 'doc_id'], unique=False)
        batch_op.create_index('ix_stock_ledger_package_at', ['package_id', 'at'], unique=False)

    op.create_table('tag_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=24), nullable=False),
    sa.Column('used_by_package_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['used_by_package_id'], ['packages.id'], name=op.f('fk_tag_pool_used_by_package_id_packages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_pool')),
    sa.UniqueConstraint('tag', name=op.f('uq_tag_pool_tag'))
    )
    op.create_table('transfer_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('split_from_package_id', sa.Integer(), nullable=True),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['moved_by_id'], ['users.id'], name=op.f('fk_transfer_lines_moved_by_id_users')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_transfer_lines_package_id_packages')),
    sa.ForeignKeyConstraint(['split_from_package_id'], ['packages.id'], name=op.f('fk_transfer_lines_split_from_package_id_packages')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_transfer_lines_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_lines')),
    sa.UniqueConstraint('transfer_id', 'package_id', name=op.f('uq_transfer_lines_transfer_id_package_id'))
    )
    with op.batch_alter_table('transfer_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_lines_package_id'), ['package_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transfer_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_lines_package_id'))

    op.drop_table('transfer_lines')
    op.drop_table('tag_pool')
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_ledger_package_at')
        batch_op.drop_index('ix_stock_ledger_document')

    op.drop_table('stock_ledger')
    with op.batch_alter_table('reconciliation_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_findings_status'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_findings_business_date'))

    op.drop_table('reconciliation_findings')
    with op.batch_alter_table('pos_sale_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_sale_lines_tag'))
        batch_op.drop_index('ix_pos_sale_lines_item_date')
        batch_op.drop_index('ix_pos_sale_lines_business_date')

    op.drop_table('pos_sale_lines')
    with op.batch_alter_table('manifest_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifest_lines_tag'))

    op.drop_table('manifest_lines')
    with op.batch_alter_table('label_prints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_prints_package_id'))
        batch_op.drop_index(batch_op.f('ix_label_prints_job'))
        batch_op.drop_index(batch_op.f('ix_label_prints_item_id'))

    op.drop_table('label_prints')
    op.drop_table('count_expected')
    with op.batch_alter_table('count_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_count_entries_session_tag')

    op.drop_table('count_entries')
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustments_package_id'))
        batch_op.drop_index(batch_op.f('ix_adjustments_adjusted_at'))

    op.drop_table('adjustments')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_status'))

    op.drop_table('transfers')
    op.drop_table('sales_daily')
    op.drop_table('pos_imports')
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_packages_received_from_manifest'))
        batch_op.drop_index('ix_packages_location_status')
        batch_op.drop_index('ix_packages_item_status')
        batch_op.drop_index(batch_op.f('ix_packages_expiration_date'))

    op.drop_table('packages')
    with op.batch_alter_table('metrc_receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metrc_receipt_lines_tag'))
        batch_op.drop_index(batch_op.f('ix_metrc_receipt_lines_receipt_id'))

    op.drop_table('metrc_receipt_lines')
    with op.batch_alter_table('metrc_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_metrc_outbox_status_id')

    op.drop_table('metrc_outbox')
    op.drop_table('manifests')
    op.drop_table('count_sessions')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('store_settings')
    op.drop_table('pos_layout_mappings')
    with op.batch_alter_table('metrc_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metrc_receipts_receipt_number'))
        batch_op.drop_index(batch_op.f('ix_metrc_receipts_external_receipt_number'))
        batch_op.drop_index('ix_metrc_receipts_business_date')

    op.drop_table('metrc_receipts')
    op.drop_table('locations')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_name'))
        batch_op.drop_index(batch_op.f('ix_items_category'))
        batch_op.drop_index(batch_op.f('ix_items_brand'))

    op.drop_table('items')
    op.drop_table('audit_head')
    op.drop_table('adjustment_reasons')
