//! Regression: `State::decode(&state.encode())` failed ("a feature that PostCard will never
//! implement") on any state holding a gateway payout or a pending parameter change, because
//! `PayoutStatus` (internally tagged) and `ParameterChange` (adjacently tagged) used serde
//! representations that postcard can write but never read. The fix gives each type two serde
//! forms chosen by the format: JSON keeps its tagged shape, binary formats use the plain enum
//! (`params::serde_by_format`). Found by the determinism property in `properties.rs`.

use infrafi_core::{
    Action, Bps, ParameterChange, State,
    action::{GatewayConfirm, GatewayReject, GatewayWithdraw, SetParameter},
    ids::{B256, PayoutId, USDC},
};
use infrafi_testkit::market::*;

#[test]
fn a_state_with_payouts_and_pending_changes_decodes_to_the_same_hash() {
    let mut market = Market::new();
    for _ in 0..3 {
        market.ok(
            ALICE,
            Action::GatewayWithdraw(GatewayWithdraw {
                token: USDC,
                amount: whole(1),
                destination: "0xdest".into(),
            }),
        );
    }
    market.ok(
        ATTESTOR,
        Action::GatewayConfirm(GatewayConfirm { payout_id: PayoutId(0), external_id: B256::ZERO }),
    );
    market.ok(
        ATTESTOR,
        Action::GatewayReject(GatewayReject { payout_id: PayoutId(1), reason: "no".into() }),
    );
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(25)) }),
    );
    assert_eq!(market.state.governance.pending_changes.len(), 1);
    let bytes = market.state.encode();
    let decoded = State::decode(&bytes).expect("the canonical encoding decodes");
    assert_eq!(decoded.state_hash(), market.state.state_hash());
    assert!(decoded.encode() == bytes);
    // The decoded state carries on exactly like the original: the scheduled change applies.
    let mut copy = Market { state: decoded, block: market.block };
    for m in [&mut market, &mut copy] {
        m.advance(2 * DAY);
        m.refresh_prices();
        m.mint(BOB, whole(100));
    }
    assert_eq!(copy.usdai(BOB), market.usdai(BOB));
    assert_eq!(copy.state.state_hash(), market.state.state_hash());
}
