"""Shipped CRM export layouts (JSON data read by ``funnel.crm.importers``)."""
