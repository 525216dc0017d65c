//! Ledger codes (1xx): amounts, balances, frozen accounts, blocks out of order.

use super::*;

pub(crate) fn zero_amounts_are_rejected_by_every_action_that_moves_value() -> TxError {
    let mut market = funded_market();
    let zero = Amount::ZERO;
    let actions = [
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: zero }),
        Action::Transfer(Transfer { asset: Asset::Tbill, to: BOB, amount: zero }),
        mint(USDC, zero),
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: zero, min_out: zero }),
        Action::Stake(Stake { assets: zero, min_shares: zero }),
        Action::MintShares(MintShares { shares: zero, max_assets: whole(1) }),
        Action::DonateToVault(DonateToVault { amount: zero }),
        Action::RequestRedeem(RequestRedeem { shares: zero }),
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: zero,
            destination: "0xdest".into(),
        }),
    ];
    for action in actions {
        reject(&mut market, ALICE, action, LedgerError::AmountMustNotBeZero);
    }
    let credit = Action::GatewayCredit(GatewayCredit {
        account: ALICE,
        token: USDC,
        amount: zero,
        external_id: B256::repeat_byte(1),
    });
    reject(&mut market, ATTESTOR, credit, LedgerError::AmountMustNotBeZero)
}

pub(crate) fn spending_more_than_the_balance_is_rejected_by_every_action_that_spends() -> TxError {
    let mut market = funded_market();
    // Alice: 1,000 USDai, 500 sUSDai, 998,500 USDC, 1,000,000 USDT.
    let over_usdai = plus(whole(1_000), Amount(1));
    let actions = [
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: over_usdai }),
        Action::Transfer(Transfer {
            asset: Asset::Susdai,
            to: BOB,
            amount: plus(whole(500), Amount(1)),
        }),
        Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDT),
            to: BOB,
            amount: plus(whole(USER_STABLECOIN_WHOLE), Amount(1)),
        }),
        mint(USDT, plus(whole(USER_STABLECOIN_WHOLE), Amount(1))),
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: over_usdai, min_out: Amount::ZERO }),
        Action::Stake(Stake { assets: over_usdai, min_shares: Amount::ZERO }),
        Action::MintShares(MintShares { shares: over_usdai, max_assets: Amount::MAX }),
        Action::DonateToVault(DonateToVault { amount: over_usdai }),
        Action::RequestRedeem(RequestRedeem { shares: plus(whole(500), Amount(1)) }),
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDT,
            amount: plus(whole(USER_STABLECOIN_WHOLE), Amount(1)),
            destination: "0xdest".into(),
        }),
    ];
    for action in actions {
        reject(&mut market, ALICE, action, LedgerError::BalanceInsufficient);
    }
    // The exact balance is fine.
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1_000) }),
    );
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: Amount(1) }),
        LedgerError::BalanceInsufficient,
    )
}

pub(crate) fn a_credit_that_would_overflow_a_balance_is_rejected_as_arithmetic_overflow() -> TxError
{
    let mut market = Market::new();
    // Alice already holds 1,000,000 USDC; u128::MAX more does not fit.
    let credit = Action::GatewayCredit(GatewayCredit {
        account: ALICE,
        token: USDC,
        amount: Amount::MAX,
        external_id: B256::repeat_byte(9),
    });
    let code = reject(&mut market, ATTESTOR, credit, LedgerError::ArithmeticOverflow);
    // The id was not spent by the rejected credit: it can still credit a sane amount.
    market.ok(
        ATTESTOR,
        Action::GatewayCredit(GatewayCredit {
            account: ALICE,
            token: USDC,
            amount: whole(1),
            external_id: B256::repeat_byte(9),
        }),
    );
    code
}

pub(crate) fn a_block_earlier_than_the_state_time_is_rejected() -> TxError {
    let mut market = Market::new();
    market.advance(HOUR);
    market.mint(ALICE, whole(10));
    let before = market.state.state_hash();
    let earlier = BlockContext { height: market.block.height + 1, timestamp: market.now() - 1 };
    assert_eq!(
        begin_block(&mut market.state, &earlier),
        Err(LedgerError::BlockTimeMustNotDecrease.into())
    );
    assert_eq!(market.state.state_hash(), before);
    market.block = earlier;
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }),
        LedgerError::BlockTimeMustNotDecrease,
    )
}

pub(crate) fn a_frozen_sender_cannot_send_usdai_or_susdai() -> TxError {
    let mut market = funded_market();
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: ALICE }));
    for asset in [Asset::Usdai, Asset::Susdai] {
        reject(
            &mut market,
            ALICE,
            Action::Transfer(Transfer { asset, to: BOB, amount: whole(1) }),
            LedgerError::SenderIsFrozen,
        );
    }
    reject(
        &mut market,
        ALICE,
        Action::RequestRedeem(RequestRedeem { shares: whole(1) }),
        LedgerError::SenderIsFrozen,
    )
}

pub(crate) fn a_frozen_recipient_cannot_receive_usdai_or_susdai() -> TxError {
    let mut market = funded_market();
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BOB }));
    for asset in [Asset::Usdai, Asset::Susdai] {
        reject(
            &mut market,
            ALICE,
            Action::Transfer(Transfer { asset, to: BOB, amount: whole(1) }),
            LedgerError::RecipientIsFrozen,
        );
    }
    // Stablecoins are not covered by a freeze.
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Stablecoin(USDC), to: BOB, amount: whole(1) }),
    );
    LedgerError::RecipientIsFrozen.into()
}

pub(crate) fn tbill_cannot_be_transferred_between_users() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Tbill, to: BOB, amount: whole(1) }),
        LedgerError::AssetIsNotTransferable,
    )
}

pub(crate) fn a_transfer_to_oneself_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: ALICE, amount: whole(1) }),
        LedgerError::RecipientMustNotBeSender,
    )
}

pub(crate) fn tokens_receipts_and_requests_cannot_be_sent_to_the_zero_address() -> TxError {
    let (mut market, _, receipt) = credit_market();
    let code = reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: Address::ZERO, amount: whole(1) }),
        LedgerError::RecipientMustNotBeZero,
    );
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDC),
            to: Address::ZERO,
            amount: whole(1),
        }),
        code,
    );
    reject(
        &mut market,
        BORROWER,
        Action::TransferReceipt(TransferReceipt { receipt_id: receipt, to: Address::ZERO }),
        code,
    );
    let request_id = RequestId(market.state.queue.globals.get().next_request_id);
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1) }));
    reject(
        &mut market,
        ALICE,
        Action::TransferRequest(TransferRequest { request_id, to: Address::ZERO }),
        code,
    )
}

pub(crate) fn an_unsupported_stablecoin_cannot_be_transferred() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Stablecoin(DAI), to: BOB, amount: whole(1) }),
        LedgerError::AssetIsNotSupported,
    )
}

pub(crate) fn a_block_lower_than_the_state_height_is_rejected() -> TxError {
    let mut market = Market::new();
    market.advance(HOUR);
    market.mint(ALICE, whole(10));
    let before = market.state.state_hash();
    // A lower block at the same time, or even later, is refused by the upkeep and by `apply`.
    let lower = BlockContext { height: market.block.height - 1, timestamp: market.now() };
    let lower_later = BlockContext { timestamp: market.now() + 1, ..lower };
    for block in [lower, lower_later] {
        assert_eq!(
            begin_block(&mut market.state, &block),
            Err(LedgerError::BlockHeightMustNotDecrease.into())
        );
        assert_eq!(market.state.state_hash(), before);
    }
    market.block = lower;
    let code = reject(
        &mut market,
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }),
        LedgerError::BlockHeightMustNotDecrease,
    );
    // Several transactions share a block: its own height is fine, and so is the next one.
    for height in [lower.height + 1, lower.height + 2] {
        market.block = BlockContext { height, timestamp: market.now() };
        market.ok(
            ALICE,
            Action::Transfer(Transfer { asset: Asset::Usdai, to: BOB, amount: whole(1) }),
        );
    }
    code
}
