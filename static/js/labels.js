// Where a conversation stands, in words: one text for both pages (the inbox and the
// supervisor's), from the page's catalogue (apps/inbox/views.py page_strings).
//
// ``me`` (the person's id, or null on the supervisor's page) turns "assigned to Ana" into
// "assigned to you" and, in the inbox, someone else's into "taken by Ana".
import { t } from "./common.js";

export function whereText(c, { me = null } = {}) {
  if (c.status === "closed") return t("closed");
  if (c.status === "assigned") {
    if (me === null) return t("assigned_to", { name: c.assignee_name });
    return c.assignee === me ? t("assigned_to_you") : t("taken_by", { name: c.assignee_name });
  }
  if (c.status === "reserved") {
    return me !== null && c.preferred_agent === me ? t("reserved_for_you") : t("reserved_for", { name: c.preferred_agent_name });
  }
  if (c.status === "queued") return t("queued_in", { team: c.team_name });
  return t("waiting");
}

// The status's own name ("Queued", "Assigned"...), as the conversations API names them.
export const statusText = (status) => t(`status_${status}`);

export const contactText = (c) => c.contact_name || `#${c.id}`;
