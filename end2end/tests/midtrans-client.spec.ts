import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { test, expect } from "@playwright/test";
import midtransClient from "midtrans-client";
import ApiConfig from "midtrans-client/lib/apiConfig";

// A team's own code on Midtrans' official Node client works against the local Midtrans twin
// unchanged but for the base URLs: Snap creates a transaction, Core answers its status (by order
// id and by transaction id), the twin posts signed notifications to the URL the team chose with
// Snap's X-Override-Notification header, and the client's notification check accepts them.
// The twin runs on the local stand-in port (LOCAL_SUPABASE_PORT, 54321 unless set).
const twin = `${process.env.KILAT_STANDINS_URL ?? "http://127.0.0.1:54321"}/midtrans`;
// LOCAL_MIDTRANS_SERVER_KEY's documented default, shared by the twin and the server.
const serverKey = process.env.LOCAL_MIDTRANS_SERVER_KEY ?? "SB-Mid-server-kilat-local-twin";

ApiConfig.SNAP_SANDBOX_BASE_URL = `${twin}/snap/v1`;
ApiConfig.CORE_SANDBOX_BASE_URL = twin;

type Notification = Record<string, string>;

/** A merchant's notification endpoint: keeps every body it is sent, answers 200. */
async function notificationReceiver(): Promise<{ url: string; received: Notification[]; server: Server }> {
  const received: Notification[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    received.push(JSON.parse(body));
    response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/notify`, received, server };
}

function sandboxClients(key: string) {
  return {
    snap: new midtransClient.Snap({ isProduction: false, serverKey: key }),
    core: new midtransClient.CoreApi({ isProduction: false, serverKey: key }),
  };
}

test("the official midtrans-client pays an order through the twin and checks its notification", async ({ request }) => {
  const merchant = await notificationReceiver();
  try {
    const { snap, core } = sandboxClients(serverKey);
    snap.httpClient.http_client.defaults.headers.common["X-Override-Notification"] = merchant.url;
    const orderId = `TEAM-${Date.now()}`;

    const created = await snap.createTransaction({
      transaction_details: { order_id: orderId, gross_amount: 150000 },
      item_details: [{ id: "PLAN-PRO", price: 150000, quantity: 1, name: "Pro, one month" }],
      customer_details: { first_name: "Budi", email: "budi@kilat.test" },
    });
    expect(created.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.redirect_url).toBe(`${twin}/snap/v4/redirection/${created.token}`);

    // As on Midtrans: Core does not know a transaction until a payment method is chosen.
    const unknown = await core.transaction.status(orderId).catch((error: { httpStatusCode?: number }) => error);
    expect(unknown).toBeInstanceOf(midtransClient.MidtransError);
    expect(Number((unknown as { httpStatusCode: unknown }).httpStatusCode)).toBe(404);

    // The payer pays by QRIS on the hosted page (here through the twin's control endpoint).
    const paid = await request.post(`${twin}/_twin/transactions/${orderId}/pay`, { data: { method: "qris" } });
    expect(paid.ok()).toBeTruthy();

    await expect.poll(() => merchant.received.map((n) => n.transaction_status)).toEqual(["pending", "settlement"]);
    const settlement = merchant.received[1];
    expect(settlement.order_id).toBe(orderId);
    expect(settlement.gross_amount).toBe("150000.00");
    expect(settlement.payment_type).toBe("qris");
    // The signature a merchant checks: SHA-512 of order id, status code, amount and server key.
    const expected = createHash("sha512")
      .update(`${orderId}${settlement.status_code}${settlement.gross_amount}${serverKey}`)
      .digest("hex");
    expect(settlement.signature_key).toBe(expected);

    // The client's own notification check asks Core about the transaction id it names.
    const checked = await snap.transaction.notification(JSON.stringify(settlement));
    expect(checked).toMatchObject({
      order_id: orderId,
      transaction_id: settlement.transaction_id,
      transaction_status: "settlement",
      status_code: "200",
      gross_amount: "150000.00",
      signature_key: expected,
    });
    const byOrder = await core.transaction.status(orderId);
    expect(byOrder.transaction_status).toBe("settlement");
  } finally {
    merchant.server.close();
  }
});

test("the official midtrans-client is refused with a wrong server key, as by Midtrans", async () => {
  const { snap } = sandboxClients("SB-Mid-server-not-the-twins-key");
  const refused = await snap
    .createTransaction({ transaction_details: { order_id: `TEAM-${Date.now()}`, gross_amount: 10000 } })
    .catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(midtransClient.MidtransError);
  expect(Number((refused as { httpStatusCode: unknown }).httpStatusCode)).toBe(401);
});
