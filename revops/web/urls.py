"""The finance web app. Every page needs a signed-in user with the right
permission; only the login page is open."""

from django.contrib.auth import views as auth_views
from django.urls import path

from revops.web.views import (
    contacts,
    contracts,
    customers,
    dashboard,
    flow,
    invoices,
    ownership,
    payments,
    products,
    tax,
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    # Customers and their contacts
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/history/", customers.customer_history, name="customer_history"),
    path("customers/<int:pk>/edit/", customers.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/tax/", customers.customer_tax_edit, name="customer_tax_edit"),
    path("customers/<int:customer_pk>/contacts/add/", contacts.contact_add, name="contact_add"),
    path("customers/<int:customer_pk>/contacts/<int:pk>/edit/", contacts.contact_edit, name="contact_edit"),
    path(
        "customers/<int:customer_pk>/contacts/<int:pk>/make-primary/",
        contacts.contact_make_primary,
        name="contact_make_primary",
    ),
    path(
        "customers/<int:customer_pk>/contacts/<int:pk>/remove/",
        contacts.contact_remove,
        name="contact_remove",
    ),
    # Documents
    path("contracts/", contracts.contract_list, name="contract_list"),
    path("contracts/<int:pk>/", contracts.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/history/", contracts.contract_history, name="contract_history"),
    # One quote-to-cash flow, step by step, and the flows breaching a business SLA
    path("contracts/<int:pk>/flow/", flow.contract_flow, name="contract_flow"),
    path("flow/<uuid:correlation_id>/", flow.flow_page, name="flow"),
    path("flow/sla-breaches/", flow.sla_breach_list, name="sla_breach_list"),
    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/history/", invoices.invoice_history, name="invoice_history"),
    path("payments/", payments.payment_list, name="payment_list"),
    path("payments/<int:pk>/", payments.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/history/", payments.payment_history, name="payment_history"),
    path("products/", products.product_list, name="product_list"),
    # Field ownership between systems
    path("ownership-rules/", ownership.ownership_rule_list, name="ownership_rule_list"),
    path("ownership-rules/add/", ownership.ownership_rule_add, name="ownership_rule_add"),
    path("ownership-rules/history/", ownership.ownership_rule_history, name="ownership_rule_history"),
    path("ownership-rules/<int:pk>/edit/", ownership.ownership_rule_edit, name="ownership_rule_edit"),
    path("ownership-rules/<int:pk>/delete/", ownership.ownership_rule_delete, name="ownership_rule_delete"),
    # The tax rate table
    path("tax-rates/", tax.tax_jurisdiction_list, name="tax_jurisdiction_list"),
    path("tax-rates/add/", tax.tax_jurisdiction_add, name="tax_jurisdiction_add"),
    path("tax-rates/<int:pk>/", tax.tax_jurisdiction_detail_page, name="tax_jurisdiction_detail"),
    path("tax-rates/<int:pk>/history/", tax.tax_jurisdiction_history, name="tax_jurisdiction_history"),
    path("tax-rates/<int:pk>/edit/", tax.tax_jurisdiction_edit, name="tax_jurisdiction_edit"),
    path("tax-rates/<int:pk>/rates/add/", tax.tax_component_add, name="tax_component_add"),
    path(
        "tax-rates/<int:pk>/rates/<int:component_pk>/edit/", tax.tax_component_edit, name="tax_component_edit"
    ),
]
