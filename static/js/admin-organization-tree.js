// The organization tree in the admin: a drag that moves a node with nodes under it asks
// first (django-mptt's draggable tree posts the move at once). Texts come translated in
// django-mptt's context (OrganizationAdmin._tree_context).
(function () {
  "use strict";
  function context() {
    var node = document.getElementById("draggable-admin-context");
    return node ? JSON.parse(node.dataset.context) : null;
  }

  function countUnder(tree, pk) {
    var children = tree[String(pk)] || [];
    return children.reduce(function (sum, child) { return sum + 1 + countUnder(tree, child); }, 0);
  }

  function nameOf(pk) {
    var marker = document.querySelector('.tree-node[data-pk="' + pk + '"]');
    var row = marker && marker.closest("tr");
    var title = row && row.querySelector(".tree-title");
    return title ? title.textContent.trim() : String(pk);
  }

  function start($) {
    $.ajaxPrefilter(function (options, original, xhr) {
      var payload = original.data || {};
      if (payload.cmd !== "move_node") return;
      var ctx = context();
      if (!ctx) return;
      var count = countUnder(ctx.treeStructure, payload.cut_item);
      if (!count) return;
      var text = (count === 1 ? ctx.messages.confirmMoveOne : ctx.messages.confirmMoveMany)
        .replace("%(name)s", nameOf(payload.cut_item))
        .replace("%(count)s", String(count));
      // Refused: the move is not sent, and the page reloads as it was (a request aborted
      // here never reaches django-mptt's own "reload when done").
      if (!window.confirm(text)) {
        xhr.abort();
        window.location.reload();
      }
    });
  }

  // The admin merges script lists and may load this one before jquery.init.js: wait for
  // every script to have run.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.django && window.django.jQuery) start(window.django.jQuery);
  });
})();
