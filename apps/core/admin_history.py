"""Read-only admin pages for history tables: nothing is added, changed or deleted there."""

from django.contrib import admin


class ReadOnlyHistoryAdmin(admin.ModelAdmin):
    list_per_page = 100
    show_full_result_count = False  # a long history is not counted on every page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
