"""Synthesizable Verilog of the implant's binner + calibration + static Huffman encoder, and its model.

:func:`render_verilog` writes the module from a trained encoder set (the encoder JSON of
:func:`neurocodec.mua.training.save_encoders`); the look-up tables (estimation-sort ranks,
codewords, code lengths) are generated, never hand-edited.  :class:`BitTrueModel` is the same
machine, transaction for transaction (a numba kernel, :func:`~neurocodec.mua._kernels.rtl_model_run`);
its output concatenated equals the codec's stream (:func:`neurocodec.mua.codec.huffman_stream`)
for the binned input under the same calibration schedule.

The hardware takes one detection bit per clock, channels CH0..CH(N-1) of one millisecond after
another, through a two-stage pipeline around one memory word per channel (a single read and a
single write per clock, so the state maps to block RAM) and one shared copy of the logic:

- a saturating count per channel adds the bit; on the last millisecond of a binning period the
  count is emitted and cleared;
- until a channel has calibrated it sends its counts raw (ceil(log2 S) bits) and, while it is
  being calibrated, counts them into a histogram; with the ``hist_samples``-th count it latches the
  histogram's peak (first maximum) and the encoder with the smallest dot product of code lengths
  and estimated-sorted histogram (first minimum), exactly as :func:`~neurocodec.mua.codec.calibrate`;
- afterwards each count is mapped through the rank table (peak, value) -> rank and sent as the
  chosen encoder's canonical codeword of that rank.

Two calibration schedules (``calibration=``):

``"parallel"``   every channel calibrates at once on its first ``hist_samples`` counts; the memory
    word holds count, sample count, S histogram counters, peak and encoder (33 bits for the
    paper's system).  After reset the memory is cleared for N_CH clocks (``ready`` low).
``"sequential"`` the paper's architecture: one shared histogram serves the channels in turn.
    Channel c's window is the next ``hist_samples`` counts of that channel, in stream order, once
    channel c-1 is done (bins c*(H-1) .. c*(H-1)+H-1).  The memory word holds only count,
    calibrated flag, peak and encoder (5 bits for the paper's system, so 512 channels fit one
    iCE40 SB_RAM40_4K); no clearing phase: the first millisecond after reset reads every count
    and flag as zero.

Outputs per emitted count, two clocks after its last detection: ``out_valid``, the codeword
right-aligned in ``out_code`` and its length ``out_len`` (sent MSB first by the radio's
serialiser, not part of this module).  Figures for the paper's system on the iCE40 LP1K come from
``neurocodec mua rtl ... --synth`` (:mod:`neurocodec.mua.rtl_synth`); docs/mua.md lists them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..entropy.huffman import canonical_codes
from ..errors import InvalidConfigError
from . import _kernels
from .codec import CALIBRATIONS, raw_bits
from .sclv import check_encoders, check_S, rank_table


def _width(max_value: int) -> int:
    return max(1, int(max_value).bit_length())


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_calibration(calibration) -> str:
    if calibration not in CALIBRATIONS:
        raise InvalidConfigError(f"calibration must be one of {CALIBRATIONS}, got {calibration!r}")
    return calibration


def _case(lines: list[str], pad: str) -> str:
    return "\n".join(pad + line for line in lines)


def _lookup(name: str, width: int, inputs, cases: list[str]) -> str:
    """A Verilog look-up function: ``width`` bits out, a case over the concatenated ``inputs`` (name, width)."""
    declarations = "".join(f"        input [{w - 1}:0] {arg};\n" for arg, w in inputs)
    selector = ", ".join(arg for arg, _ in inputs)
    return f"""    function [{width - 1}:0] {name};
{declarations}        case ({{{selector}}})
{_case(cases, '            ')}
            default: {name} = {width}'d0;
        endcase
    endfunction
"""


class _Tables:
    """Widths and the generated look-up functions shared by both architectures."""

    def __init__(self, encoders, S: int, hist_samples: int, sort: bool):
        self.S = S
        self.enc = enc = encoders
        self.n_enc = enc.shape[0]
        self.vw = _width(S - 1)  # value / rank width
        self.ew = _width(self.n_enc - 1)
        self.cw = int(max(enc.max(), raw_bits(S)))  # codeword register width
        self.lw = _width(self.cw)
        self.hw = _width(hist_samples)
        self.sumw = _width(hist_samples * int(enc.max()))
        self.sort = sort
        vw, ew, cw, lw = self.vw, self.ew, self.cw, self.lw
        ranks = rank_table(S)
        codes = [canonical_codes(e) for e in enc]
        self.rank_cases = [f"{{{vw}'d{p}, {vw}'d{s}}}: rank_of = {vw}'d{ranks[p, s]};"
                           for p in range(S) for s in range(S)]
        self.len_cases = [f"{{{ew}'d{e}, {vw}'d{r}}}: len_of = {lw}'d{enc[e, r]};"
                          for e in range(self.n_enc) for r in range(S)]
        self.code_cases = [f"{{{ew}'d{e}, {vw}'d{r}}}: code_of = {cw}'d{codes[e][r]};"
                           for e in range(self.n_enc) for r in range(S)]
        self.comment = "\n".join(f"//   encoder {e}: lengths {enc[e].tolist()}" for e in range(self.n_enc))

    def functions(self) -> str:
        vw, ew, cw, lw = self.vw, self.ew, self.cw, self.lw
        return ("    // estimation sort: rank of value s when the histogram peaks at p\n"
                + _lookup("rank_of", vw, (("p", vw), ("s", vw)), self.rank_cases) + "\n"
                + _lookup("len_of", lw, (("e", ew), ("r", vw)), self.len_cases) + "\n"
                + _lookup("code_of", cw, (("e", ew), ("r", vw)), self.code_cases))

    def decide(self, h: str) -> str:
        """Peak (first maximum) and encoder (first minimum cost) of histogram array ``h``."""
        peak = (f"pk = {self.vw}'d0;" if not self.sort else
                f"pk = 0;\n        for (i = 1; i < S; i = i + 1)\n            if ({h}[i] > {h}[pk]) pk = i;")
        if self.n_enc == 1:
            return peak + "\n        best = 0;"
        return peak + f"""
        best = 0;
        best_cost = {{{self.sumw}{{1'b1}}}};
        for (e = 0; e < N_ENC; e = e + 1) begin
            cost = 0;
            for (i = 0; i < S; i = i + 1)
                cost = cost + {h}[i] * len_of(e, rank_of(pk, i));
            if (cost < best_cost) begin
                best_cost = cost;
                best = e;
            end
        end"""


def _header(t: _Tables, hist_samples: int, module_name: str, n_channels: int, bin_ms: int, schedule: str,
            word: str) -> str:
    return f"""// Generated by neurocodec.mua.rtl.render_verilog -- do not edit; re-render from the encoder JSON.
`timescale 1ns/1ps
// MUA binner + estimation-sort LUT + static Huffman encoder (Savolainen et al., SCLV method).
// S = {t.S} symbols (counts saturate at {t.S - 1}), calibration histogram of {hist_samples} samples,
// estimation sort {'on' if t.sort else 'off'}, {t.n_enc} encoder(s), {schedule} calibration:
{t.comment}
// Input: one detection bit per clock (in_valid), channels 0..N_CH-1 of 1 ms frame after frame.
// Output: per binning period and channel, out_valid with a right-aligned codeword (MSB first),
// two clocks after the channel's last detection of the period.
// {word}
module {module_name} #(
    parameter N_CH  = {n_channels},
    parameter BP_MS = {bin_ms}
) (
    input  wire          clk,
    input  wire          rst,        // synchronous, active high
    input  wire          in_valid,
    input  wire          in_detect,
    output wire          ready,
    output reg           out_valid,
    output reg  [{t.cw - 1}:0]   out_code,
    output reg  [{t.lw - 1}:0]   out_len
);
    localparam S        = {t.S};
    localparam HIST     = {hist_samples};
    localparam N_ENC    = {t.n_enc};
    localparam RAW_BITS = {raw_bits(t.S)};
    localparam CHW = (N_CH  > 1) ? $clog2(N_CH)  : 1;
    localparam MSW = (BP_MS > 1) ? $clog2(BP_MS) : 1;

{t.functions()}"""


def _render_parallel(t: _Tables, hist_samples: int, bin_ms: int, n_channels: int, module_name: str) -> str:
    vw, hw, ew, sumw = t.vw, t.hw, t.ew, t.sumw
    # one memory word per channel, LSB first: encoder, peak, S histogram counters, sample count, count
    off_peak = ew
    off_hist = off_peak + vw
    off_nsamp = off_hist + t.S * hw
    off_acc = off_nsamp + hw
    ww = off_acc + vw
    head = _header(t, hist_samples, module_name, n_channels, bin_ms, "parallel",
                   f"All per-channel state is one {ww}-bit word (count, sample count, histogram, peak,\n"
                   "// encoder) in a single-port-read, single-port-write memory; after reset the memory is\n"
                   "// cleared for N_CH clocks and inputs count once ready is high.")
    return head + f"""
    localparam WW       = {ww};
    // the pipeline never reads the word it writes in the same clock (forwarding covers one channel):
    // no read-during-write bypass is needed around the block RAM
    (* no_rw_check *)
    reg [WW-1:0]  mem [0:N_CH-1];
    reg           clearing;
    reg [CHW-1:0] clr;
    assign ready = !clearing;

    // stage A: take a detection, read its channel's word
    reg [CHW-1:0] ch, ch_q;
    reg [MSW-1:0] ms;
    reg           b_valid, det_q, last_q;
    reg [WW-1:0]  rd;
    wire          take = in_valid && !clearing;

    // stage B: count, calibrate, encode, write the word back
    reg [{vw - 1}:0] acc_r, peak_r, v, pk;
    reg [{hw - 1}:0] nsamp_r;
    reg [{ew - 1}:0] enc_r, best;
    reg [{vw}:0]   sum;
    reg [{hw - 1}:0] h_old [0:S-1];
    reg [{hw - 1}:0] h [0:S-1];
    reg [{sumw - 1}:0] cost, best_cost;
    reg           calib, done;
    reg [WW-1:0]  wd;
    integer i, e;
    always @* begin
        acc_r   = rd[{off_acc} +: {vw}];
        nsamp_r = rd[{off_nsamp} +: {hw}];
        peak_r  = rd[{off_peak} +: {vw}];
        enc_r   = rd[0 +: {ew}];
        sum = acc_r + det_q;
        v = (sum > S - 1) ? S - 1 : sum[{vw - 1}:0];
        calib = last_q && (nsamp_r < HIST);       // this count goes to the histogram
        done  = calib && (nsamp_r == HIST - 1);   // ... and completes it
        for (i = 0; i < S; i = i + 1) begin
            h_old[i] = rd[{off_hist} + i*{hw} +: {hw}];
            h[i] = h_old[i] + (v == i);
        end
        {t.decide("h")}
        wd = rd;
        wd[{off_acc} +: {vw}] = last_q ? {vw}'d0 : v;
        if (calib) begin
            wd[{off_nsamp} +: {hw}] = nsamp_r + 1'b1;
            for (i = 0; i < S; i = i + 1)
                wd[{off_hist} + i*{hw} +: {hw}] = h[i];
        end
        if (done) begin
            wd[{off_peak} +: {vw}] = pk;
            wd[0 +: {ew}] = best;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            ch <= 0;
            ms <= 0;
            b_valid <= 1'b0;
            out_valid <= 1'b0;
            out_code <= 0;
            out_len <= 0;
            clearing <= 1'b1;
            clr <= 0;
        end else begin
            b_valid <= take;
            if (take) begin
                det_q <= in_detect;
                ch_q <= ch;
                last_q <= (ms == BP_MS - 1);
                // only with one channel is stage B writing the word read here: forward it
                rd <= (N_CH == 1 && b_valid) ? wd : mem[ch];
                if (ch == N_CH - 1) begin
                    ch <= 0;
                    ms <= (ms == BP_MS - 1) ? 0 : ms + 1'b1;
                end else begin
                    ch <= ch + 1'b1;
                end
            end
            out_valid <= b_valid && last_q;
            if (b_valid && last_q) begin
                if (nsamp_r < HIST) begin
                    out_code <= v;
                    out_len <= RAW_BITS;
                end else begin
                    out_code <= code_of(enc_r, rank_of(peak_r, v));
                    out_len <= len_of(enc_r, rank_of(peak_r, v));
                end
            end
            if (clearing) begin
                mem[clr] <= 0;
                clr <= clr + 1'b1;
                if (clr == N_CH - 1)
                    clearing <= 1'b0;
            end else if (b_valid) begin
                mem[ch_q] <= wd;
            end
        end
    end
endmodule
"""


def _render_sequential(t: _Tables, hist_samples: int, bin_ms: int, n_channels: int, module_name: str) -> str:
    vw, hw, ew, sumw = t.vw, t.hw, t.ew, t.sumw
    # only what a channel needs after calibration, LSB first: [encoder], [peak], calibrated, count
    # (one encoder needs no index, no sort needs no peak)
    enc_bits = ew if t.n_enc > 1 else 0
    peak_bits = vw if t.sort else 0
    off_peak = enc_bits
    off_cal = off_peak + peak_bits
    off_acc = off_cal + 1
    ww = off_acc + vw
    nw = _width(hist_samples - 1)
    enc_read = f"enc_r = rd[0 +: {ew}];" if enc_bits else f"enc_r = {ew}'d0;"
    peak_read = f"peak_r = rd[{off_peak} +: {vw}];" if peak_bits else f"peak_r = {vw}'d0;"
    latch = []
    if peak_bits:
        latch.append(f"wd[{off_peak} +: {vw}] = pk;")
    if enc_bits:
        latch.append(f"wd[0 +: {ew}] = best;")
    latch_code = ("if (done) begin\n            " + "\n            ".join(latch) + "\n        end") if latch else ""
    multi = (f"\n    reg [{sumw - 1}:0] cost, best_cost;" if t.n_enc > 1 else "")
    head = _header(t, hist_samples, module_name, n_channels, bin_ms, "sequential",
                   f"Per channel one {ww}-bit memory word (count, calibrated flag"
                   f"{', peak' if peak_bits else ''}{', encoder' if enc_bits else ''}); the channels\n"
                   "// calibrate one after another through one shared histogram.  No clearing phase: in the first\n"
                   "// millisecond after reset every count and calibrated flag reads as zero; ready is always high.")
    return head + f"""
    localparam WW       = {ww};
    // the pipeline never reads the word it writes in the same clock (forwarding covers one channel):
    // no read-during-write bypass is needed around the block RAM
    (* no_rw_check *)
    reg [WW-1:0]  mem [0:N_CH-1];
    assign ready = 1'b1;

    // stage A: take a detection, read its channel's word
    reg [CHW-1:0] ch, ch_q;
    reg [MSW-1:0] ms;
    reg           first, first_q;                // first millisecond since reset
    reg           b_valid, det_q, last_q;
    reg [WW-1:0]  rd;

    // shared calibration: the channel being calibrated (N_CH once all are), its histogram
    reg [CHW:0]   cal_ch;
    reg [{nw - 1}:0] nsamp;
    reg [{hw - 1}:0] h [0:S-1];

    // stage B: count, calibrate, encode, write the word back
    reg [{vw - 1}:0] acc_r, peak_r, v, pk;
    reg [{ew - 1}:0] enc_r, best;
    reg [{vw}:0]   sum;
    reg [{hw - 1}:0] hn [0:S-1];{multi}
    reg           cal_r, mine, done;
    reg [WW-1:0]  wd;
    integer i, e;
    always @* begin
        acc_r = first_q ? {vw}'d0 : rd[{off_acc} +: {vw}];
        cal_r = !first_q && rd[{off_cal}];
        {peak_read}
        {enc_read}
        sum = acc_r + det_q;
        v = (sum > S - 1) ? S - 1 : sum[{vw - 1}:0];
        mine = last_q && ({{1'b0, ch_q}} == cal_ch);   // this count goes to the shared histogram
        done = mine && (nsamp == HIST - 1);           // ... and completes it
        for (i = 0; i < S; i = i + 1)
            hn[i] = h[i] + (v == i);
        {t.decide("hn")}
        wd = rd;
        wd[{off_acc} +: {vw}] = last_q ? {vw}'d0 : v;
        wd[{off_cal}] = cal_r || done;
        {latch_code}
    end

    always @(posedge clk) begin
        if (rst) begin
            ch <= 0;
            ms <= 0;
            first <= 1'b1;
            b_valid <= 1'b0;
            out_valid <= 1'b0;
            cal_ch <= 0;
            nsamp <= 0;
            for (i = 0; i < S; i = i + 1)
                h[i] <= 0;
        end else begin
            b_valid <= in_valid;
            if (in_valid) begin
                det_q <= in_detect;
                ch_q <= ch;
                last_q <= (ms == BP_MS - 1);
                first_q <= first;
                // only with one channel is stage B writing the word read here: forward it
                rd <= (N_CH == 1 && b_valid) ? wd : mem[ch];
                if (ch == N_CH - 1) begin
                    ch <= 0;
                    first <= 1'b0;
                    ms <= (ms == BP_MS - 1) ? 0 : ms + 1'b1;
                end else begin
                    ch <= ch + 1'b1;
                end
            end
            out_valid <= b_valid && last_q;
            if (b_valid && last_q) begin
                if (cal_r) begin
                    out_code <= code_of(enc_r, rank_of(peak_r, v));
                    out_len <= len_of(enc_r, rank_of(peak_r, v));
                end else begin
                    out_code <= v;
                    out_len <= RAW_BITS;
                end
            end
            if (b_valid && mine) begin
                if (done) begin
                    nsamp <= 0;
                    cal_ch <= cal_ch + 1'b1;
                    for (i = 0; i < S; i = i + 1)
                        h[i] <= 0;
                end else begin
                    nsamp <= nsamp + 1'b1;
                    for (i = 0; i < S; i = i + 1)
                        h[i] <= hn[i];
                end
            end
            if (b_valid)
                mem[ch_q] <= wd;
        end
    end
endmodule
"""


def render_verilog(encoders, S: int, hist_samples: int = 64, bin_ms: int = 50, n_channels: int = 96,
                   sort: bool = True, module_name: str = "mua_sclv_encoder", calibration: str = "parallel") -> str:
    """Verilog-2001 source of the encoder for these trained encoders (one module, no includes).

    ``bin_ms`` (binning period in 1 ms input frames) and ``n_channels`` become overridable
    parameters ``BP_MS`` and ``N_CH``; S, the histogram size, the tables and the calibration
    schedule (``"parallel"`` or ``"sequential"``, module docstring) are fixed at render time.
    """
    S = check_S(S)
    enc = check_encoders(encoders, S)
    hist_samples = _check_positive_int(hist_samples, "hist_samples")
    bin_ms = _check_positive_int(bin_ms, "bin_ms (whole milliseconds in RTL)")
    n_channels = _check_positive_int(n_channels, "n_channels")
    calibration = _check_calibration(calibration)
    if not module_name.isidentifier():
        raise InvalidConfigError(f"module name {module_name!r} is not a Verilog identifier")
    tables = _Tables(enc, S, hist_samples, bool(sort))
    render = _render_sequential if calibration == "sequential" else _render_parallel
    return render(tables, hist_samples, bin_ms, n_channels, module_name)


def render_testbench(module_name: str, stimulus_path, n_inputs: int, n_channels: int, bin_ms: int,
                     packed: bool = False) -> str:
    """A testbench that feeds ``n_inputs`` detection bits and prints one ``code len`` line (decimal)
    per emitted count.

    The stimulus file holds whitespace-separated 0/1 words (the paper's format, ``packed=False``)
    or, ``packed=True``, hexadecimal 32-bit words of 32 detection bits each, least significant bit
    first (:func:`write_packed_stimulus`).  Runs under iverilog and ``verilator --binary --timing``.
    """
    n_inputs = _check_positive_int(n_inputs, "n_inputs")
    path = str(Path(stimulus_path)).replace("\\", "/")
    if packed:
        n_words = (n_inputs + 31) // 32
        decl = f"reg [31:0] stim [0:{n_words - 1}];"
        load = f'$readmemh("{path}", stim, 0, {n_words - 1});'
        bit = "stim[n >> 5][n & 31]"
    else:
        decl = f"reg stim [0:{n_inputs - 1}];"
        load = f'$readmemb("{path}", stim, 0, {n_inputs - 1});'
        bit = "stim[n]"
    return f"""`timescale 1ns/1ps
module tb;
    reg clk = 0, rst = 1, in_valid = 0, in_detect = 0;
    wire out_valid, ready;
    wire [31:0] out_code_w;
    wire [7:0] out_len_w;
    {decl}
    integer n;
    {module_name} #(.N_CH({n_channels}), .BP_MS({bin_ms})) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_detect(in_detect), .ready(ready),
        .out_valid(out_valid), .out_code(out_code_w), .out_len(out_len_w));
    always #5 clk = ~clk;
    always @(posedge clk) if (out_valid) $display("%0d %0d", out_code_w, out_len_w);
    initial begin
        {load}
        @(negedge clk) rst = 0;
        while (!ready) @(negedge clk);
        for (n = 0; n < {n_inputs}; n = n + 1) begin
            in_valid = 1; in_detect = {bit};
            @(negedge clk);
        end
        in_valid = 0;
        repeat (4) @(negedge clk);
        $finish;
    end
endmodule
"""


def write_packed_stimulus(path, detections) -> int:
    """Write detection bits as the packed hex stimulus of :func:`render_testbench`; returns the count."""
    bits = np.asarray(detections).ravel().astype(bool)
    padded = np.zeros(-(-bits.size // 32) * 32, dtype=bool)
    padded[:bits.size] = bits
    words = np.packbits(padded.reshape(-1, 32), axis=1, bitorder="little").view("<u4").ravel()
    Path(path).write_text("".join(f"{w:08x}\n" for w in words.tolist()), encoding="ascii")
    return int(bits.size)


class BitTrueModel:
    """Python model of the rendered module: same state, same decisions, same output words.

    The machine runs in :func:`neurocodec.mua._kernels.rtl_model_run`; the model keeps its state
    between calls, so a stimulus can be fed whole or in pieces.
    """

    def __init__(self, encoders, S: int, hist_samples: int = 64, bin_ms: int = 50, n_channels: int = 96,
                 sort: bool = True, calibration: str = "parallel"):
        self.S = check_S(S)
        self.enc = check_encoders(encoders, self.S)
        self.hist_samples = _check_positive_int(hist_samples, "hist_samples")
        self.bp = _check_positive_int(bin_ms, "bin_ms")
        self.n_ch = _check_positive_int(n_channels, "n_channels")
        self.sort = bool(sort)
        self.calibration = _check_calibration(calibration)
        self.ranks = rank_table(self.S)
        self.codes = np.stack([canonical_codes(e) for e in self.enc])
        self.raw = raw_bits(self.S)
        # channel, millisecond, channel being calibrated (sequential schedule)
        self.regs = np.zeros(3, dtype=np.int64)
        self.acc = np.zeros(self.n_ch, dtype=np.int64)
        self.calibrated = np.zeros(self.n_ch, dtype=np.int64)
        self.peak = np.zeros(self.n_ch, dtype=np.int64)
        self.encoder = np.zeros(self.n_ch, dtype=np.int64)
        n_hist = 1 if self.calibration == "sequential" else self.n_ch
        self.nsamp = np.zeros(n_hist, dtype=np.int64)
        self.hist = np.zeros((n_hist, self.S), dtype=np.int64)

    def run_arrays(self, detections) -> tuple[np.ndarray, np.ndarray]:
        """Feed a flat sequence of detection bits; returns the emitted codes and lengths as arrays."""
        det = np.ascontiguousarray(np.asarray(detections).ravel(), dtype=np.uint8)
        # at most one count per channel per binning period, plus one per channel in flight
        bound = det.size // self.bp + self.n_ch
        codes = np.empty(bound, dtype=np.int64)
        lengths = np.empty(bound, dtype=np.int64)
        n = _kernels.rtl_model_run(det, self.bp, self.n_ch, self.hist_samples, self.sort,
                                   self.calibration == "sequential", self.enc, self.ranks, self.codes, self.raw,
                                   self.regs, self.acc, self.calibrated, self.peak, self.encoder, self.nsamp,
                                   self.hist, codes, lengths)
        return codes[:n], lengths[:n]

    def run(self, detections) -> list[tuple[int, int]]:
        """Feed a flat sequence of detection bits; returns every emitted ``(code, length)``."""
        codes, lengths = self.run_arrays(detections)
        return list(zip(codes.tolist(), lengths.tolist()))

    def step(self, detect: int) -> tuple[int, int] | None:
        """One clock with a detection bit; returns ``(code, length)`` when a count is emitted."""
        out = self.run([1 if detect else 0])
        return out[0] if out else None


def pack_words(words) -> tuple[bytes, int]:
    """Concatenate ``(code, length)`` words MSB first into bytes (zero-padded); returns (bytes, bits).

    ``words`` is a sequence of pairs or the ``(codes, lengths)`` arrays of :meth:`BitTrueModel.run_arrays`.
    """
    if isinstance(words, tuple) and len(words) == 2 and isinstance(words[0], np.ndarray):
        codes, lengths = words
    else:
        pairs = np.asarray(list(words), dtype=np.int64).reshape(-1, 2)
        codes, lengths = pairs[:, 0], pairs[:, 1]
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    buf = np.zeros((total + 7) // 8, dtype=np.uint8)
    _kernels.pack_codewords(codes, lengths, buf)
    return buf.tobytes(), total


def read_stimulus(path, n_channels: int = 96) -> np.ndarray:
    """The paper's FPGA stimulus (0/1 words, channels interleaved per 1 ms) as a (ms, channels) raster.

    Whitespace-separated; a trailing partial frame is dropped (the shipped 96-channel file holds
    15361 words, one past 160 whole frames).
    """
    try:
        words = Path(path).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidConfigError(f"cannot read stimulus {path}: {exc}") from None
    if any(w not in ("0", "1") for w in words):
        raise InvalidConfigError(f"{path}: stimulus words must be 0 or 1")
    n_channels = _check_positive_int(n_channels, "n_channels")
    frames = len(words) // n_channels
    bits = np.array(words[:frames * n_channels], dtype=np.int64)
    return bits.reshape(frames, n_channels)


__all__ = ["BitTrueModel", "pack_words", "read_stimulus", "render_testbench", "render_verilog",
           "write_packed_stimulus"]
