"""Billing: price rules, quotes, invoices, payments, contract fees and commission."""
