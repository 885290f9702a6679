/** The appointment form shows the attendees' Outlook availability, flags the conflict
 * and moves the appointment to the suggested free slot (m365_sync/tests/test_availability.py). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("m365_sync_availability_tour", {
    steps: () => [
        {
            content: "Every attendee has a row of Outlook free/busy",
            trigger: ".o_m365_availability .o_m365_av_row:nth-child(4)",
        },
        {
            content: "The busy attendee is flagged, the one outside the tenant says why",
            trigger: ".o_m365_av_row.o_m365_av_conflict:contains('Megan') .badge:contains('Conflict')",
        },
        {
            content: "Someone outside the tenant: Outlook's own error, no blocks",
            trigger: ".o_m365_av_row .o_m365_av_error:contains('Active Directory')",
        },
        {
            content: "No title of somebody else's appointment is on the page",
            trigger: ".o_m365_availability:not(:contains('Secret board meeting'))",
        },
        {
            content: "Take the suggested free slot",
            trigger: ".o_m365_av_suggestion .o_m365_av_use",
            run: "click",
        },
        {
            content: "Now everyone is free",
            trigger: ".o_m365_av_free",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
    ],
});
