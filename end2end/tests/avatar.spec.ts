import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";

import { confirmFromMailbox, submitSignUp } from "./accounts";

// The share picture the site serves: a real 1200 × 630 PNG, small enough for an avatar.
const picture = readFileSync(path.join(__dirname, "../../public/og.png"));

// A person uploads a picture with a visible progress bar and sees it in the header; a file over
// 2 MB and an SVG are refused at once with their reasons; removing it brings the initials back.
test("upload, refuse, and remove an avatar", async ({ page }) => {
  const email = `avatar-${Date.now()}@kilat.id`;
  await page.goto("/auth/sign-up?lang=en");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await submitSignUp(page, "Ana Putri", email);
  await confirmFromMailbox(page, email);
  await expect(page.getByTestId("account-menu").getByTestId("avatar-initials")).toHaveText("AP");

  await page.goto("/dashboard/settings");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const input = page.locator("#avatar-file");

  // Checked in the browser before anything is sent.
  await input.setInputFiles({ name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(2 * 1024 * 1024 + 1) });
  await expect(page.getByTestId("avatar-form").getByTestId("form-error")).toContainText("over 2 MB");
  await input.setInputFiles({
    name: "drawing.svg",
    mimeType: "image/svg+xml",
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
  });
  await expect(page.getByTestId("avatar-form").getByTestId("form-error")).toContainText("not a JPEG, PNG, WebP or GIF");

  // Slow the upload down enough to watch the bar move.
  await page.route("**/api/profile/avatar", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    await route.continue();
  });
  await input.setInputFiles({ name: "me.png", mimeType: "image/png", buffer: picture });
  await expect(page.getByTestId("avatar-preview")).toBeVisible();
  await page.getByTestId("avatar-form").locator('button[type="submit"]').click();
  await expect(page.getByTestId("avatar-progress")).toBeVisible();
  await expect(page).toHaveURL(/notice=avatar_saved/);
  await expect(page.getByTestId("form-success").first()).toContainText("Your new picture is saved");
  const header = page.getByTestId("account-menu").getByTestId("avatar-picture");
  await expect(header).toBeVisible();
  expect(await header.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);

  // A renamed program gets the server's reason.
  await page.unroute("**/api/profile/avatar");
  await input.setInputFiles({
    name: "photo.png",
    mimeType: "image/png",
    buffer: Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01\x00"), Buffer.alloc(400)]),
  });
  await page.getByTestId("avatar-form").locator('button[type="submit"]').click();
  await expect(page.getByTestId("avatar-form").getByTestId("form-error")).toContainText("not a JPEG, PNG, WebP or GIF");

  // Removing asks first.
  await page.getByTestId("avatar-remove").locator("summary").click();
  await page.getByTestId("avatar-remove").locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/notice=avatar_removed/);
  await expect(page.getByTestId("account-menu").getByTestId("avatar-initials")).toHaveText("AP");
});
