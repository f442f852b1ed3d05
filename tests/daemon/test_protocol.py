#!/usr/bin/env python3
"""retasd's varlink socket against bad input: truncated JSON, a 2 MiB
message, unknown methods and interfaces, parameters of the wrong name or
type. Each is answered with a varlink error and never disturbs a second
client, which keeps working throughout."""
import json
import socket

from harness import IFACE, NIP, DaemonTest, main

PROTOCOL_ERROR = f"{IFACE}.ProtocolError"


class Protocol(DaemonTest):
    def setUp(self):
        super().setUp()
        self.d.start()
        self.other = self.d.connect()

    def tearDown(self):
        self.other.close()
        super().tearDown()

    def other_still_works(self):
        r = self.other.call("Status")
        self.assertEqual(r["parameters"]["state"], "no-assignment", r)

    def test_protocol_truncated_json(self):
        with self.d.connect() as c:
            c.send_raw(b'{"method": "' + IFACE.encode() + b'.Status", "param\0')
            r = c.recv()
            self.assertEqual(r["error"], PROTOCOL_ERROR)
            self.assertEqual(r["parameters"]["reason"], "protocol.json")
            self.other_still_works()
            # The connection goes on with the next message.
            self.assertEqual(c.call("Status")["parameters"]["state"], "no-assignment")

    def test_protocol_partial_message_does_not_block_others(self):
        with self.d.connect() as c:
            c.send_raw(b'{"method": "' + IFACE.encode())  # no end, no NUL yet
            self.other_still_works()
            c.send_raw(b'.Status"}\0')
            self.assertEqual(c.recv()["parameters"]["state"], "no-assignment")

    def test_protocol_not_json_and_not_a_call(self):
        with self.d.connect() as c:
            for raw, reason in ((b"\xff\xfe\0", "protocol.json"),
                                (b"\0", "protocol.json"),
                                (b"[1,2]\0", "protocol.request"),
                                (b'{"parameters": {}}\0', "protocol.request"),
                                (b'{"method": 7}\0', "protocol.request"),
                                (b'{"method": "a.B", "oneway": "yes"}\0', "protocol.request"),
                                (b'{"method": "a.B"} x\0', "protocol.json")):
                c.send_raw(raw)
                r = c.recv()
                self.assertEqual(r["error"], PROTOCOL_ERROR, raw)
                self.assertEqual(r["parameters"]["reason"], reason, raw)
            self.other_still_works()

    def test_protocol_2mib_message(self):
        with self.d.connect() as c:
            big = b'{"method": "' + IFACE.encode() + b'.LoadAssignment", "parameters": ' \
                  b'{"token": "' + b"a" * (2 * 1024 * 1024) + b'"}}\0'
            c.send_raw(big[:1024 * 1024])
            self.other_still_works()
            c.send_raw(big[1024 * 1024:])
            r = c.recv()
            self.assertEqual(r["error"], PROTOCOL_ERROR)
            self.assertEqual(r["parameters"]["reason"], "protocol.size")
            # The rest of the oversize message was skipped up to its NUL.
            self.assertEqual(c.call("Status")["parameters"]["state"], "no-assignment")
        self.other_still_works()

    def test_protocol_exactly_at_the_limit(self):
        with self.d.connect() as c:
            head = b'{"method": "' + IFACE.encode() + b'.LoadAssignment", "parameters": {"token": "'
            tail = b'"}}'
            pad = 1024 * 1024 - len(head) - len(tail)
            c.send_raw(head + b"a" * pad + tail + b"\0")
            r = c.recv()
            # Within the limit the message is read; the letter itself is refused.
            self.assertEqual(r["error"], f"{IFACE}.Refused")
            self.assertEqual(r["parameters"]["reason"], "jws.format")

    def test_protocol_unknown_method_and_interface(self):
        with self.d.connect() as c:
            r = c.call(f"{IFACE}.Enrol")
            self.assertEqual(r, {"error": "org.varlink.service.MethodNotFound",
                                 "parameters": {"method": f"{IFACE}.Enrol"}})
            r = c.call("com.example.Thing.Do")
            self.assertEqual(r, {"error": "org.varlink.service.InterfaceNotFound",
                                 "parameters": {"interface": "com.example.Thing"}})
            r = c.call("NoDots")
            self.assertEqual(r["error"], "org.varlink.service.MethodNotFound")
        self.other_still_works()

    def test_protocol_method_with_nul_not_called(self):
        # A NUL inside the name once called the method named before it
        # (found by fuzz-varlink's invariant; corpus/varlink/method-with-nul.bin).
        with self.d.connect() as c:
            c.send_raw(b'{"method": "' + IFACE.encode() + b'.Status\\u0000x"}\0')
            self.assertEqual(c.recv(), {"error": "org.varlink.service.MethodNotFound",
                                        "parameters": {"method": f"{IFACE}.Status\0x"}})
            c.send_raw(b'{"method": "' + IFACE.encode() + b'.Status\\u0000"}\0')
            self.assertEqual(c.recv()["error"], "org.varlink.service.MethodNotFound")
        self.other_still_works()

    def test_protocol_wrong_parameters(self):
        cases = [
            ("Login", {"nip": 198703152010011002, "pin": "1"}, "nip"),
            ("Login", {"nip": NIP}, "pin"),
            ("Login", {"nip": NIP, "pin": "1", "extra": True}, "extra"),
            ("Login", {"nip": "12345", "pin": "1"}, "nip"),
            ("Login", {"nip": NIP, "pin": "9" * 65}, "pin"),
            ("Login", {"nip": NIP, "pin": ""}, "pin"),
            ("LoadAssignment", {"token": ["a"]}, "token"),
            ("LoadAssignment", {}, "token"),
            ("Status", {"verbose": True}, "verbose"),
            ("org.varlink.service.GetInterfaceDescription", {"interface": None}, "interface"),
        ]
        with self.d.connect() as c:
            for method, params, bad in cases:
                r = c.call(method, params)
                self.assertEqual(r, {"error": "org.varlink.service.InvalidParameter",
                                     "parameters": {"parameter": bad}}, (method, params))
            c.send_raw(json.dumps({"method": f"{IFACE}.Status", "parameters": [1]}).encode() + b"\0")
            self.assertEqual(c.recv()["parameters"], {"parameter": "parameters"})
            c.send_raw(b'{"method": "' + IFACE.encode() + b'.Login", "parameters": '
                       b'{"nip": "198703152010011002", "pin": "a\\u0000b"}}\0')
            self.assertEqual(c.recv()["parameters"], {"parameter": "pin"})
        self.other_still_works()

    def test_protocol_pipelined_calls_answer_in_order(self):
        with self.d.connect() as c:
            c.send("org.varlink.service.GetInfo")
            c.send("Status")
            c.send("Nope")
            self.assertEqual(c.recv()["parameters"]["product"], "retasd")
            self.assertEqual(c.recv()["parameters"]["state"], "no-assignment")
            self.assertEqual(c.recv()["error"], "org.varlink.service.MethodNotFound")

    def test_protocol_oneway_gets_no_answer(self):
        with self.d.connect() as c:
            c.send("Status", oneway=True)
            c.send("Nope", oneway=True)
            c.send("org.varlink.service.GetInfo")
            self.assertEqual(c.recv()["parameters"]["product"], "retasd")

    def test_protocol_many_clients_at_once(self):
        clients = [self.d.connect() for _ in range(20)]
        try:
            for c in clients:
                c.send("Status")
            for c in clients:
                self.assertEqual(c.recv()["parameters"]["state"], "no-assignment")
        finally:
            for c in clients:
                c.close()

    def test_protocol_client_gone_before_answer(self):
        # A Login whose peer hangs up before the PIN check ends still counts.
        self.d.cli("assignment", "load", self.keys.letter("st.jws"))
        c = self.d.connect()
        c.send("Login", {"nip": NIP, "pin": "000000"})
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        # Checks run one after another; while the first of these two runs,
        # the loop has long read the abandoned one, so after both the count
        # holds all three.
        r = self.other.call("Login", {"nip": NIP, "pin": "000000"})
        self.assertEqual(r["parameters"]["reason"], "login.wrong-pin", r)
        r = self.other.call("Login", {"nip": NIP, "pin": "000000"})
        self.assertEqual(r["parameters"]["args"]["remaining"], "2", r)


if __name__ == "__main__":
    main()
