/** Browser tours of m365_sync (run by m365_sync/tests/test_tours.py with start_tour).
 *
 * The Python side prepares the sandbox tenant and runs what happens in the
 * background between two tours (the connection test, the personal pull, the
 * outbox drain); the tours do what a person does on screen.
 */
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// An administrator connects the company to its tenant and tests the connection.
tours.add("m365_admin_connect", {
    url: "/odoo/settings#m365_sync",
    steps: () => [
        {
            content: "Type the directory (tenant) ID",
            trigger: "div[name='m365_azure_tenant'] input",
            run: "edit contoso.onmicrosoft.com",
        },
        {
            content: "Type the application (client) ID",
            trigger: "div[name='m365_client_id'] input",
            run: "edit 5f0c7a52-3e1b-4c8d-9a6f-2b7e4d1c8a90",
        },
        {
            content: "Type the client secret",
            trigger: "div[name='m365_client_secret'] input",
            run: "edit sbx~Q8f2K.m365-sandbox-secret_7Yv3nR",
        },
        {
            content: "Switch on contact sync",
            trigger: "div[name='m365_contact_sync'] input",
            run: "click",
        },
        {
            content: "Test the connection (saves the page first)",
            trigger: "button[name='action_m365_test_connection']",
            run: "click",
        },
        {
            content: "The test runs in the background and says so at once",
            trigger: ".o_notification:contains('Connection test started in the background')",
        },
    ],
});

// After the background test: permissions missing, the administrator grants admin consent.
tours.add("m365_admin_consent", {
    url: "/odoo/settings#m365_permissions",
    steps: () => [
        {
            content: "The test found permissions missing",
            trigger: "div[name='m365_connection_state'] :contains('Permissions missing')",
        },
        {
            content: "Grant admin consent: Microsoft's page, then back to Settings",
            trigger: "button[name='action_m365_admin_consent']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back in Settings with the answer",
            trigger: ".alert-success:contains('Admin consent granted')",
        },
    ],
});

// A user connects their Microsoft 365 account, then asks for a sync.
tours.add("m365_user_connect", {
    url: "/odoo/action-m365_sync.action_m365_my_accounts",
    steps: () => [
        {
            content: "No account yet: the page says what to do",
            trigger: "div:contains('No Microsoft 365 account connected yet')",
        },
        {
            content: "Add an account",
            trigger: "button[name='action_m365_add_account']",
            run: "click",
        },
        {
            content: "Sign in with Microsoft (the sandbox answers at once)",
            trigger: ".modal button[name='action_connect']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Connected",
            trigger: ".alert-success:contains('Connected to adele.vance@contoso.onmicrosoft.com')",
        },
        {
            content: "Sync now",
            trigger: "button[name='action_sync_now']",
            run: "click",
        },
        {
            content: "The sync runs in the background and says so at once",
            trigger: ".o_notification:contains('Started in the background')",
        },
    ],
});

// A project manager schedules an activity of an exporting project for a colleague.
// Started on the task's form (test_tours.py opens it).
tours.add("m365_pm_export", {
    steps: () => [
        {
            content: "The task of an exporting project",
            trigger: ".o_form_view .o_breadcrumb:contains('Order the tiles')",
        },
        {
            content: "Schedule an activity",
            trigger: ".o-mail-Chatter-topbar button.o-mail-Chatter-activity",
            run: "click",
        },
        {
            content: "Its summary",
            trigger: ".modal div[name='summary'] input",
            run: "edit Measure the walls",
        },
        {
            content: "Assigned to Adele",
            trigger: ".modal div[name='activity_user_id'] input",
            run: "edit Adele",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Adele Tour')",
            run: "click",
        },
        {
            content: "The planned start is offered for an exporting project",
            trigger: ".modal div[name='m365_planned_start'] input",
        },
        {
            content: "Save",
            trigger: ".modal button[name='action_schedule_activities']",
            run: "click",
        },
        {
            content: "The chatter shows when the Outlook event is",
            trigger: ".o-m365-Activity-outlook:contains('Outlook:')",
        },
        {
            content: "The resource overview",
            trigger: "body",
            run() {
                window.location.href = "/odoo/resource-overview";
            },
            expectUnloadPage: true,
        },
        {
            content: "The overview: a row per person, cells coloured by load",
            trigger: ".o_m365_overview .o_m365_grid td.o_m365_cell.o_m365_booked",
            run: "click",
        },
        {
            content: "A cell opens that day's busy slots and activities",
            trigger: ".o_m365_cell_panel:contains('Adele Tour'):contains('Activities')",
        },
        {
            content: "Weeks",
            trigger: ".o_m365_overview button.o_m365_scale_week",
            run: "click",
        },
        {
            trigger: ".o_m365_overview button.o_m365_scale_week.btn-primary",
        },
        {
            trigger: ".o_m365_overview .o_m365_grid th:contains('W')",
        },
    ],
});
