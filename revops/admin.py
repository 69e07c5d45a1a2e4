"""Django admin for administrators, with each object's history.

Tables can hold millions of rows, so foreign keys are raw id inputs (no select
listing every customer) and change lists never count the whole table.
Business events and ownership refusals are records of what happened: read-only.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from revops import models as m


class CanonicalAdmin(SimpleHistoryAdmin):
    show_full_result_count = False
    list_per_page = 50


class ReadOnlyMixin:
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.LegalEntity)
class LegalEntityAdmin(CanonicalAdmin):
    list_display = ("code", "name", "country", "functional_currency")
    search_fields = ("code", "name")


class ContactInline(admin.TabularInline):
    model = m.CustomerContact
    extra = 0
    fields = ("name", "email", "phone", "role", "is_primary")


@admin.register(m.Customer)
class CustomerAdmin(CanonicalAdmin):
    list_display = ("number", "name", "status", "legal_entity", "currency", "country")
    list_filter = ("status", "legal_entity")
    search_fields = ("=number", "name")
    raw_id_fields = ("legal_entity",)
    inlines = [ContactInline]


@admin.register(m.CustomerContact)
class CustomerContactAdmin(CanonicalAdmin):
    list_display = ("name", "email", "customer", "is_primary")
    search_fields = ("=email", "name")
    raw_id_fields = ("customer",)


class PriceInline(admin.TabularInline):
    model = m.Price
    extra = 0


@admin.register(m.Product)
class ProductAdmin(CanonicalAdmin):
    list_display = ("sku", "name", "revenue_category", "pricing_model", "active")
    list_filter = ("revenue_category", "pricing_model", "active")
    search_fields = ("=sku", "name")
    inlines = [PriceInline]


@admin.register(m.Price)
class PriceAdmin(CanonicalAdmin):
    list_display = ("product", "currency", "unit_amount", "active_from", "active_to")
    list_filter = ("currency",)
    raw_id_fields = ("product",)


class ContractLineInline(admin.TabularInline):
    model = m.ContractLine
    fk_name = "contract"
    extra = 0
    raw_id_fields = ("product", "replaces", "amendment", "ended_by")


@admin.register(m.Contract)
class ContractAdmin(CanonicalAdmin):
    list_display = ("number", "customer", "status", "start_date", "end_date", "currency")
    list_filter = ("status", "billing_frequency")
    search_fields = ("=number",)
    raw_id_fields = ("customer",)
    inlines = [ContractLineInline]


@admin.register(m.ContractAmendment)
class ContractAmendmentAdmin(CanonicalAdmin):
    list_display = ("contract", "sequence", "effective_date", "made_by")
    raw_id_fields = ("contract",)


@admin.register(m.ContractLine)
class ContractLineAdmin(CanonicalAdmin):
    list_display = ("id", "contract", "product", "quantity", "unit_price", "effective_from", "effective_to")
    raw_id_fields = ("contract", "product", "replaces", "amendment", "ended_by")


@admin.register(m.UsageRecord)
class UsageRecordAdmin(CanonicalAdmin):
    list_display = ("source", "source_event_id", "contract_line", "quantity", "usage_at")
    search_fields = ("=source_event_id",)
    raw_id_fields = ("contract_line",)


class InvoiceLineInline(admin.TabularInline):
    model = m.InvoiceLine
    extra = 0
    raw_id_fields = ("product", "contract_line")


@admin.register(m.Invoice)
class InvoiceAdmin(CanonicalAdmin):
    list_display = (
        "number",
        "customer",
        "status",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "amount_due",
    )
    list_filter = ("status", "legal_entity")
    search_fields = ("=number",)
    raw_id_fields = ("customer", "contract", "legal_entity")
    inlines = [InvoiceLineInline]


@admin.register(m.InvoiceLine)
class InvoiceLineAdmin(CanonicalAdmin):
    list_display = ("invoice", "line_number", "description", "amount")
    raw_id_fields = ("invoice", "product", "contract_line")


class CreditNoteLineInline(admin.TabularInline):
    model = m.CreditNoteLine
    extra = 0
    raw_id_fields = ("invoice_line",)


@admin.register(m.CreditNote)
class CreditNoteAdmin(CanonicalAdmin):
    list_display = ("number", "invoice", "customer", "status", "issue_date", "currency", "total")
    list_filter = ("status",)
    search_fields = ("=number",)
    raw_id_fields = ("invoice", "customer", "legal_entity")
    inlines = [CreditNoteLineInline]


@admin.register(m.CreditNoteLine)
class CreditNoteLineAdmin(CanonicalAdmin):
    list_display = ("credit_note", "line_number", "description", "amount")
    raw_id_fields = ("credit_note", "invoice_line")


@admin.register(m.Payment)
class PaymentAdmin(CanonicalAdmin):
    list_display = ("number", "customer", "status", "received_date", "currency", "amount", "amount_applied")
    list_filter = ("status", "method", "legal_entity")
    search_fields = ("=number", "=gateway_reference")
    raw_id_fields = ("customer", "legal_entity")


@admin.register(m.PaymentApplication)
class PaymentApplicationAdmin(CanonicalAdmin):
    list_display = ("payment", "invoice", "amount", "applied_date", "status")
    list_filter = ("status",)
    raw_id_fields = ("payment", "invoice")


@admin.register(m.ExternalRef)
class ExternalRefAdmin(CanonicalAdmin):
    list_display = ("system", "object_type", "external_id", "content_type", "object_id")
    list_filter = ("system", "object_type")
    search_fields = ("=external_id",)


@admin.register(m.OwnershipRule)
class OwnershipRuleAdmin(CanonicalAdmin):
    list_display = ("object_type", "field", "owner_system", "notes")
    list_filter = ("object_type", "owner_system")


@admin.register(m.BusinessEvent)
class BusinessEventAdmin(ReadOnlyMixin, CanonicalAdmin):
    list_display = ("occurred_at", "type", "subject_label", "source", "actor")
    list_filter = ("type", "source")
    search_fields = ("=correlation_id",)


@admin.register(m.OwnershipRefusal)
class OwnershipRefusalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    show_full_result_count = False
    list_display = ("created_at", "object_type", "field", "attempted_by_system", "owner_system", "actor")
    list_filter = ("object_type", "attempted_by_system")


class TaxRateComponentInline(admin.TabularInline):
    model = m.TaxRateComponent
    extra = 0
    fields = ("name", "authority", "type", "rate", "valid_from", "valid_to")


@admin.register(m.TaxJurisdiction)
class TaxJurisdictionAdmin(CanonicalAdmin):
    list_display = ("code", "name", "country", "region", "legal_entity")
    list_filter = ("country",)
    search_fields = ("code", "name")
    raw_id_fields = ("legal_entity",)
    inlines = [TaxRateComponentInline]


@admin.register(m.TaxRateComponent)
class TaxRateComponentAdmin(CanonicalAdmin):
    list_display = ("jurisdiction", "name", "authority", "type", "rate", "valid_from", "valid_to")
    list_filter = ("type",)
    search_fields = ("jurisdiction__code", "name")
    raw_id_fields = ("jurisdiction",)
