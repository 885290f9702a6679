/** Unit tests (hoot) of the resource overview client action: the grid, the colours,
 * the scale switch and a cell's detail, against a mocked get_overview/get_cell. */
import { expect, test } from "@odoo/hoot";
import { animationFrame } from "@odoo/hoot-mock";
import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import {
    contains,
    defineModels,
    getService,
    makeMockEnv,
    models,
    mountWithCleanup,
    onRpc,
} from "@web/../tests/web_test_helpers";
import { WebClient } from "@web/webclient/webclient";

import { cellTitle, formatHours } from "@m365_sync/resource_overview/resource_overview";

class M365ResourceOverview extends models.Model {
    _name = "m365.resource.overview";
}

defineMailModels();
defineModels([M365ResourceOverview]);

function cell(key, capacity, busy, planned, state, off = 0) {
    const booked = busy + planned;
    return {
        key,
        capacity,
        busy,
        planned,
        off,
        booked,
        free: Math.max(capacity - booked, 0),
        load: capacity ? Math.round((100 * booked) / capacity) : null,
        state,
    };
}

function overview(scale) {
    const columns =
        scale === "week"
            ? [{ key: "2026-03-30", until: "2026-04-05", label: "W14", title: "", weekend: false, today: false }]
            : [
                  { key: "2026-03-30", until: "2026-03-30", label: "Mon 30", title: "", weekend: false, today: true },
                  { key: "2026-03-31", until: "2026-03-31", label: "Tue 31", title: "", weekend: false, today: false },
              ];
    const cells =
        scale === "week"
            ? [cell("2026-03-30", 40, 12, 2, "booked")]
            : [cell("2026-03-30", 8, 9, 1, "over"), cell("2026-03-31", 4, 0, 0, "free", 4)];
    return {
        start: "2026-03-30",
        scale,
        span: columns.length,
        columns,
        rows: [
            {
                user_id: 7,
                name: "Adele Vance",
                tz_utc: true,
                cells,
                totals: { capacity: 12, busy: 9, planned: 1, booked: 10, off: 4, load: 83, state: "full" },
            },
        ],
        filters: { projects: [[3, "Office move"]], departments: [] },
        previous: "2026-03-16",
        next: "2026-04-13",
    };
}

test("hours and cell titles read as hours, with a % sign for the load", async () => {
    await makeMockEnv(); // translations
    expect(formatHours(7.5)).toBe("7.5 h");
    expect(formatHours(null)).toBe("");
    const title = cellTitle(cell("2026-03-30", 8, 6, 1, "full"));
    expect(title).toInclude("Capacity: 8 h");
    expect(title).toInclude("Load: 88 %");
});

test("people by days, coloured by load; weeks; a cell opens its busy time and activities", async () => {
    const calls = [];
    onRpc("m365.resource.overview", "get_overview", ({ kwargs }) => {
        calls.push(kwargs.scale);
        return overview(kwargs.scale);
    });
    onRpc("m365.resource.overview", "get_cell", ({ args }) => {
        expect(args).toEqual([7, "2026-03-30", "2026-03-30"]);
        return {
            user: "Adele Vance",
            tz: "UTC",
            tz_utc: true,
            title: "Monday, March 30, 2026",
            slots_visible: true,
            slots: [{ start: "09:00", stop: "18:00", all_day: false, show_as: "Busy", counted: true, hours: 9 }],
            activities: [
                { id: 1, summary: "Measure the rooms", record: "Plan the new desks", res_model: "project.task", res_id: 5, deadline: "04/01/2026", outlook: "", hours: 1 },
            ],
        };
    });
    await mountWithCleanup(WebClient);
    await getService("action").doAction("m365_sync.resource_overview");
    await animationFrame();
    expect(".o_m365_grid tbody tr").toHaveCount(1);
    expect(".o_m365_grid td.o_m365_over").toHaveCount(1);
    expect(".o_m365_grid td.o_m365_free .fa-plane").toHaveCount(1);
    expect(".o_m365_tz_warning").toHaveCount(1);
    expect(".o_m365_chart_row").toHaveCount(1);
    await contains(".o_m365_grid td.o_m365_over").click();
    await animationFrame();
    expect(".o_m365_cell_panel").toHaveText(/Measure the rooms/);
    expect(".o_m365_cell_panel .o_m365_slots li").toHaveCount(1);
    await contains(".o_m365_scale_week").click();
    await animationFrame();
    expect(".o_m365_grid th:contains(W14)").toHaveCount(1);
    expect(calls).toEqual(["day", "week"]);
});
