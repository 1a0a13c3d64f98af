"""The dealer group's life, simulated day by day through the real beat tasks and workflows.

``manage.py simulate`` (contacts/management/commands/simulate.py) and tests/contacts/test_simulate.py
drive ``run.simulate``. A faked clock (``clock``) moves through each UTC day; at each beat moment the
real Celery task runs in-process (eagerly, as a worker would run it); simulated agents (``agents``)
work a share of each queue through contacts.calls; simulated customers (``customers``) drive, come to
service by their own habit, buy and trade in cars, and reach the product through the weekly DMS import
(customers.importing). Every day the invariants (``invariants``) are checked and a ledger line
(``ledger``) is written; at the end the business figures are computed.
"""
