package codegen

import (
	"fmt"

	"github.com/bpfc/bpfc/cbpf"
)

// Link types whose headers libpcap 1.10 does not look past: on them only
// what reads the link header or the packet as a whole compiles (len,
// less, greater, link[], byte, and the Linux ancillary data inbound,
// outbound and ifindex); a network-protocol test is refused with
// gen_linktype's name for the link ("USB link-layer type filtering not
// implemented"), and vlan, mpls and llc with its description ("no VLAN
// support for USB with Linux header"). ERF is one of them, but carries
// SS7 signal units 20 bytes in, which sio, fisu and the rest read.
//
// short is the name of the network-protocol refusal where it is not the
// description (cbpf.LinkType.Description, pcap_datalink_val_to_description).
// The list was taken from tcpdump -d -y for every link type libpcap 1.10.3
// knows: these are the ones where it accepts nothing else.
var headerOnly = []struct {
	lt    cbpf.LinkType
	short string
}{
	{141, ""},                       // MTP3
	{142, ""},                       // SCCP
	{143, ""},                       // DOCSIS
	{144, "IrDA"},                   // LINUX_IRDA
	{169, ""},                       // GPRS_LLC
	{170, ""},                       // GPF_T
	{171, ""},                       // GPF_F
	{174, ""},                       // JUNIPER_PIC_PEER
	{175, ""},                       // ERF_ETH
	{176, ""},                       // ERF_POS
	{177, "LAPD"},                   // LINUX_LAPD
	{182, "Multi-link Frame Relay"}, // MFR
	{184, ""},                       // A429
	{185, ""},                       // A653_ICM
	{186, "USB"},                    // USB_FREEBSD
	{187, "Bluetooth"},              // BLUETOOTH_HCI_H4
	{188, ""},                       // IEEE802_16_MAC_CPS
	{189, "USB"},                    // USB_LINUX
	{190, "CAN"},                    // CAN20B
	{191, "IEEE 802.15.4"},          // IEEE802_15_4_LINUX
	{193, "IEEE 802.16"},            // IEEE802_16_MAC_CPS_RADIO
	{195, "IEEE 802.15.4"},          // IEEE802_15_4
	{196, "SITA"},                   // SITA
	{linkERF, "ERF"},                // ERF
	{198, "RAIF1"},                  // RAIF1
	{199, "IPMB"},                   // IPMB_KONTRON
	{201, "Bluetooth"},              // BLUETOOTH_HCI_H4_WITH_PHDR
	{202, "AX.25"},                  // AX25_KISS
	{209, "IPMB"},                   // IPMB_LINUX
	{215, "IEEE 802.15.4"},          // IEEE802_15_4_NONASK_PHY
	{216, ""},                       // LINUX_EVDEV
	{219, ""},                       // MPLS
	{220, "USB"},                    // USB_LINUX_MMAPPED
	{221, ""},                       // DECT
	{222, ""},                       // AOS
	{223, ""},                       // WIHART
	{224, ""},                       // FC_2
	{225, ""},                       // FC_2_WITH_FRAME_DELIMS
	{227, "CAN"},                    // CAN_SOCKETCAN
	{230, "IEEE 802.15.4"},          // IEEE802_15_4_NOFCS
	{231, ""},                       // DBUS
	{235, ""},                       // DVB_CI
	{236, ""},                       // MUX27010
	{237, ""},                       // STANAG_5066_D_PDU
	{239, "NFLOG"},                  // NFLOG
	{242, ""},                       // IPOIB
	{243, ""},                       // MPEG_2_TS
	{244, ""},                       // NG40
	{245, ""},                       // NFC_LLCP
	{246, "PFSYNC"},                 // PFSYNC
	{247, ""},                       // INFINIBAND
	{248, ""},                       // SCTP
	{249, "USB"},                    // USBPCAP
	{250, ""},                       // RTAC_SERIAL
	{251, ""},                       // BLUETOOTH_LE_LL
	{253, ""},                       // NETLINK
	{254, ""},                       // BLUETOOTH_LINUX_MONITOR
	{255, ""},                       // BLUETOOTH_BREDR_BB
	{256, ""},                       // BLUETOOTH_LE_LL_WITH_PHDR
	{257, ""},                       // PROFIBUS_DL
	{258, ""},                       // PKTAP
	{259, ""},                       // EPON
	{260, ""},                       // IPMI_HPM_2
	{261, ""},                       // ZWAVE_R1_R2
	{262, ""},                       // ZWAVE_R3
	{263, ""},                       // WATTSTOPPER_DLM
	{264, ""},                       // ISO_14443
	{265, ""},                       // RDS
	{266, ""},                       // USB_DARWIN
	{267, ""},                       // OPENFLOW
	{268, ""},                       // SDLC
	{269, ""},                       // TI_LLN_SNIFFER
	{271, ""},                       // VSOCK
	{272, ""},                       // NORDIC_BLE
	{273, ""},                       // DOCSIS31_XRA31
	{274, ""},                       // ETHERNET_MPACKET
	{275, ""},                       // DISPLAYPORT_AUX
	{278, ""},                       // OPENVIZSLA
	{279, ""},                       // EBHSCR
	{280, ""},                       // VPP_DISPATCH
	{281, ""},                       // DSA_TAG_BRCM
	{282, ""},                       // DSA_TAG_BRCM_PREPEND
	{283, "IEEE 802.15.4"},          // IEEE802_15_4_TAP
	{284, ""},                       // DSA_TAG_DSA
	{285, ""},                       // DSA_TAG_EDSA
	{286, ""},                       // ELEE
	{287, ""},                       // Z_WAVE_SERIAL
	{288, ""},                       // USB_2_0
	{289, ""},                       // ATSC_ALP
}

// linkERF is DLT_ERF: Endace's extensible record format.
const linkERF cbpf.LinkType = 197

// noNetProto refuses every network-protocol test, naming the link.
func noNetProto(name string) func(c *compiler, et uint32) pred {
	err := fmt.Errorf("%s link-layer type filtering not implemented", name)
	return func(c *compiler, _ uint32) pred { return c.fail(err) }
}

// The range of DLT values libpcap assigns new link types in
// (DLT_MATCHING_MIN, DLT_MATCHING_MAX in libpcap 1.10.3): a value there
// it has no code for is a header-only link, named "DLT n"; one outside
// it, unknown.
const (
	dltMatchingMin = 104
	dltMatchingMax = 289
)

func init() {
	add := func(lt cbpf.LinkType, short string) {
		l := &linkLayer{lt: lt, name: lt.Description(), offLinkType: -1}
		if short == "" {
			short = l.name
		}
		l.netProto = noNetProto(short)
		if lt == linkERF {
			l.ss7, l.ss7Base = true, 20
		}
		registerLink(l)
	}
	for _, h := range headerOnly {
		add(h.lt, h.short)
	}
	for i := range unnamedLinks {
		lt := cbpf.LinkType(dltMatchingMin + i)
		l := &linkLayer{lt: lt, name: lt.Description(), offLinkType: -1}
		l.netProto = noNetProto(l.name)
		unnamedLinks[i] = l
	}
}

// unnamedLinks are the header-only links of the values of the range that
// no other table has (lookupLink tries linkByType first), by DLT value
// less dltMatchingMin.
var unnamedLinks [dltMatchingMax - dltMatchingMin + 1]*linkLayer
