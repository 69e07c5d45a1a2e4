"""Django admin for exception items, with each item's history. Analysts work in
the triage pages; the admin is for administrators."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from exceptions_queue.models import ExceptionComment, ExceptionItem


class CommentInline(admin.TabularInline):
    model = ExceptionComment
    extra = 0
    fields = ("created_at", "actor", "body")
    readonly_fields = ("created_at", "actor")


@admin.register(ExceptionItem)
class ExceptionItemAdmin(SimpleHistoryAdmin):
    show_full_result_count = False
    list_per_page = 50
    list_display = ("id", "code", "title", "status", "severity", "assignee", "occurrences", "last_seen_at")
    list_filter = ("status", "code", "severity")
    search_fields = ("=dedupe_key", "title")
    raw_id_fields = ("assignee", "team", "legal_entity")
    readonly_fields = ("first_seen_at", "last_seen_at", "occurrences", "created_at", "updated_at")
    inlines = [CommentInline]


@admin.register(ExceptionComment)
class ExceptionCommentAdmin(SimpleHistoryAdmin):
    show_full_result_count = False
    list_per_page = 50
    list_display = ("item", "actor", "created_at")
    raw_id_fields = ("item", "author")
